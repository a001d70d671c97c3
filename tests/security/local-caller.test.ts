// A hostd with auth off (loopback, no key: the README's first run) takes whoever reaches it as
// the local admin. A web page in the operator's browser reached it too (outside tester tj): an
// HTML form from any origin (no CORS preflight) created sandboxes and even a key, which turned
// auth on and locked every local client out; DNS rebinding read the API. Requests with a
// foreign Origin or Host are now refused with 403, WebSocket upgrades included.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { hostdUrl } from "../support/api.js";
import { wsConnect } from "../support/websocket.js";

function raw(method: string, path: string, headers: Record<string, string>, body = ""): Promise<{ status: number; body: string }> {
  const u = new URL(hostdUrl());
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), method, path, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const count = async () => (JSON.parse((await raw("GET", "/v1/sandboxes", {})).body) as { sandboxes: unknown[] }).sandboxes.length;

test("a form POST from another origin creates nothing, nor a key: 403 forbidden naming the Origin", async () => {
  const before = await count();
  // What `<form enctype="text/plain">` on a data: page sends.
  const form = await raw("POST", "/v1/sandboxes", { origin: "null", "content-type": "text/plain" }, '{"metadata":{"by":"form-csrf"}, "x":"="}');
  assert.equal(form.status, 403, form.body);
  assert.equal((JSON.parse(form.body) as { code: string }).code, "forbidden");
  assert.match(form.body, /auth off.*Origin: null/);
  const key = await raw("POST", "/v1/keys", { origin: "https://evil.example", "content-type": "text/plain" }, '{"name":"csrf","tier":"free"}');
  assert.equal(key.status, 403, key.body);
  assert.equal(await count(), before, "a sandbox was made");
  assert.equal((await raw("GET", "/v1/keys", {})).status, 200, "auth is still off for local programs");
});

test("DNS rebinding (another name in Host) cannot read the API; a WebSocket from a foreign page is not upgraded", async () => {
  const read = await raw("GET", "/v1/sandboxes", { host: "rebind.evil.example:7171" });
  assert.equal(read.status, 403, read.body);
  assert.match(read.body, /Host: rebind\.evil\.example/);
  const ws = await wsConnect(`${hostdUrl()}/v1/sandboxes/sbx_0123456789abcdef0123456789abcdef/pty`, { origin: "https://evil.example" });
  assert.equal(ws.status, 403, ws.body);
  assert.equal(ws.socket, null);
  // E2B's Host form is let through for sandbox traffic only: on the REST API's paths it gave a
  // rebinding page every sandbox, their files, exec and an admin key (outside tester tm).
  const e2bForm = "49983-sbx_00000000000000000000000000000000.attacker.example:7171";
  for (const [method, path, body] of [["GET", "/v1/sandboxes", ""], ["POST", "/v1/keys", '{"name":"pwn","tier":"enterprise"}'], ["POST", "/v1/sandboxes", "{}"]] as const) {
    const r = await raw(method, path, { host: e2bForm, "content-type": "application/json" }, body);
    assert.equal(r.status, 403, `${method} ${path} with E2B's Host form: ${r.body.slice(0, 200)}`);
  }
  // The host's own pages and local programs still work.
  assert.equal((await raw("GET", "/v1/capacity", { origin: hostdUrl() })).status, 200);
  assert.equal((await raw("GET", "/v1/capacity", { host: "localhost" })).status, 200);
});
