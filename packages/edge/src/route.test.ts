import assert from "node:assert/strict";
import { test } from "node:test";
import { newTaggedId, regionTagFor, tagOfId } from "@podflare/protocol";
import { classify, e2bSandboxOf, namedRegion } from "./route.js";
import { redactHeaders, redactLine, redactPath } from "./redact.js";
import { parseMaybe } from "./create.js";

const id = "sbx_3fa0" + "1".repeat(28);

test("requests route by kind: own endpoints, create, any path holding an id, the rest", () => {
  assert.deepEqual(classify("GET", "/v1/regions"), { kind: "own", name: "regions" });
  assert.deepEqual(classify("GET", "/metrics"), { kind: "own", name: "metrics" });
  assert.deepEqual(classify("POST", "/v1/sandboxes"), { kind: "create" });
  assert.deepEqual(classify("POST", `/v1/sandboxes/${id}/exec`), { kind: "id", id, tag: "3fa0" });
  assert.deepEqual(classify("GET", `/v1/sandboxes/${id}/ports/8000/ws?x=1`), { kind: "id", id, tag: "3fa0" });
  const space = "spc_beef" + "2".repeat(28);
  assert.deepEqual(classify("POST", `/v1/spaces/${space}/resume`), { kind: "id", id: space, tag: "beef" });
  // A route the edge has never heard of still routes by its id (future E2B-style paths).
  assert.deepEqual(classify("PATCH", `/e2b/sandboxes/${id}/timeout`), { kind: "id", id, tag: "3fa0" });
  assert.deepEqual(classify("GET", "/v1/sandboxes?state=ready"), { kind: "list", field: "sandboxes" });
  assert.deepEqual(classify("GET", "/v1/spaces"), { kind: "list", field: "spaces" });
  assert.deepEqual(classify("GET", "/v1/usage"), { kind: "other" });
  assert.deepEqual(classify("GET", "/v1/sandboxes/sbx_short/exec"), { kind: "other" });
});

test("E2B's sandbox traffic routes by the E2b-Sandbox-Id header or the <port>-<id>.<domain> Host; E2B creates are creates", () => {
  assert.deepEqual(classify("POST", "/process.Process/Start", e2bSandboxOf(id, undefined)), { kind: "id", id, tag: "3fa0" });
  assert.deepEqual(classify("GET", "/files?path=/root/x", e2bSandboxOf(undefined, `49983-${id}.e2b.example`)), { kind: "id", id, tag: "3fa0" });
  assert.deepEqual(classify("POST", "/execute", e2bSandboxOf(` ${id} `, "edge.example")), { kind: "id", id, tag: "3fa0" });
  // /v1/ paths are the REST API's, whatever E2B headers come with them (as at hostd).
  assert.deepEqual(classify("GET", "/v1/usage", e2bSandboxOf(id, undefined)), { kind: "other" });
  assert.equal(e2bSandboxOf(undefined, "edge.example:7080"), undefined);
  assert.deepEqual(classify("POST", "/v2/sandboxes"), { kind: "create" });
  assert.deepEqual(classify("POST", "/sandboxes"), { kind: "create" });
});

test("the create's region: body first, then the header", () => {
  assert.equal(namedRegion({ region: "eu" }, "us-west"), "eu");
  assert.equal(namedRegion({}, "us-west"), "us-west");
  assert.equal(namedRegion(undefined, undefined), undefined);
  assert.equal(namedRegion({ region: "" }, " "), undefined);
});

test("tagged ids keep the sbx_<32 hex> shape, start with the tag and are otherwise random", () => {
  const tag = regionTagFor("us-west");
  assert.match(tag, /^[0-9a-f]{4}$/);
  assert.equal(regionTagFor("us-west"), tag);
  assert.notEqual(regionTagFor("eu"), tag);
  const a = newTaggedId("sbx", tag);
  const b = newTaggedId("sbx", tag);
  assert.match(a, /^sbx_[0-9a-f]{32}$/);
  assert.equal(tagOfId(a), tag);
  assert.notEqual(a, b);
  assert.match(newTaggedId("spc", undefined), /^spc_[0-9a-f]{32}$/);
  assert.equal(tagOfId("sbx_nothex"), undefined);
});

test("log lines never carry keys", () => {
  const h = redactHeaders({ authorization: "Bearer pf_secret", "x-api-key": "pf_secret2", "content-type": "application/json" });
  assert.equal(h.authorization, "[redacted]");
  assert.equal(h["x-api-key"], "[redacted]");
  assert.equal(h["content-type"], "application/json");
  assert.equal(redactPath("/v1/x?api_key=pf_s&y=1"), "/v1/x?api_key=[redacted]&y=1");
  assert.doesNotMatch(redactLine("failed: Authorization: Bearer pf_secret3"), /pf_secret3/);
  assert.doesNotMatch(redactLine('{"x-api-key":"pf_secret4"}'), /pf_secret4/);
  // A key by its shape, wherever the client put it (outside tester ti: all of these were logged).
  const k = "pf_live_AbCdEf0123456789AbCdEf0123456789AbCdEf01";
  for (const line of [`GET /v1/x?x=${k}`, `{"x-auth":"${k}"}`, `GET /v1/sandboxes/sbx_1/${k}`, `{"x-podflare-region":"${k}"}`]) {
    assert.doesNotMatch(redactLine(line), /pf_live_/, line);
  }
  // E2B's access tokens open a sandbox on their own: credentials too.
  const e2b = redactHeaders({ "x-access-token": "tok_1", "e2b-traffic-access-token": "tok_2" });
  assert.deepEqual(e2b, { "x-access-token": "[redacted]", "e2b-traffic-access-token": "[redacted]" });
  assert.doesNotMatch(redactLine('{"X-Access-Token":"tok_3"}'), /tok_3/);
  // Secrets of other shapes, by the name they go under (outside tester tr: all were logged).
  for (const path of ["/v1/x?secret=s1", "/v1/x?password=s1", "/v1/x?api%5Fkey=s1", "/v1/x?Authorization=Bearer%20s1", "/v1/sandboxes/sbx_1/ports/80/?password=s1&page=2"]) {
    assert.doesNotMatch(redactPath(path), /s1/, path);
  }
  assert.equal(redactPath("/v1/sandboxes/sbx_1/ports/80/?password=s1&page=2"), "/v1/sandboxes/sbx_1/ports/80/?password=[redacted]&page=2");
  const other = redactHeaders({ "x-auth-token": "s2", "x-podflare-key": "s3", "x-e2b-api-key": "s4", referer: "http://a/b?api_key=s5", accept: "text/html" });
  assert.deepEqual(other, { "x-auth-token": "[redacted]", "x-podflare-key": "[redacted]", "x-e2b-api-key": "[redacted]", referer: "http://a/b?api_key=[redacted]", accept: "text/html" });
});

test("a create body is parsed for its region only when it can hold one; escaped keys count", () => {
  const named = (body: string) => namedRegion(parseMaybe(Buffer.from(body)), undefined);
  assert.equal(named('{"template":"default","memory_mb":512}'), undefined);
  assert.equal(named('{"region":"eu"}'), "eu");
  assert.equal(named('{"\\u0072egion":"eu"}'), "eu");
  assert.equal(named('{"metadata":{"note":"no \\"region\\" here"},"region":"us"}'), "us");
  assert.equal(named(""), undefined);
  assert.equal(parseMaybe(Buffer.from('{"region": nope')), undefined);
});

test("an MCP call with a tagged Mcp-Session-Id goes to the session's region; without one (initialize) or with another shape, the nearest", () => {
  const sid = newTaggedId("mcp", "ab12");
  assert.deepEqual(classify("POST", "/mcp", undefined, sid), { kind: "id", id: sid, tag: "ab12" });
  assert.deepEqual(classify("DELETE", "/mcp/", undefined, sid), { kind: "id", id: sid, tag: "ab12" });
  assert.deepEqual(classify("POST", "/mcp", undefined, undefined), { kind: "other" });
  assert.deepEqual(classify("POST", "/mcp", undefined, "2de08eb2-717f-42a8-b8c1-4595cf97ab9d"), { kind: "other" });
  assert.deepEqual(classify("POST", "/v1/other", undefined, sid), { kind: "other" }, "only /mcp routes by the session");
});
