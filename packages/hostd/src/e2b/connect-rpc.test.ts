import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectError, connectErrorFromRest, parseEnvelopedRequest } from "./connect-rpc.js";

function envelope(flags: number, json: string): Buffer {
  const body = Buffer.from(json);
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

test("a server-streaming request's single envelope is read; malformed ones are invalid_argument", () => {
  assert.deepEqual(parseEnvelopedRequest(envelope(0, '{"path":"/root"}')), { path: "/root" });
  assert.deepEqual(parseEnvelopedRequest(envelope(0, "")), {});
  const bad = (b: Buffer, m: RegExp) => assert.throws(() => parseEnvelopedRequest(b), (e: Error) => e instanceof ConnectError && e.code === "invalid_argument" && m.test(e.message));
  bad(Buffer.from([0, 0]), /no Connect envelope/);
  bad(envelope(1, "{}"), /compressed/);
  bad(Buffer.concat([envelope(0, "{}"), envelope(0, "{}")]), /exactly one message/);
  bad(envelope(0, "{not json"), /not valid JSON/);
  bad(envelope(0, "[1]"), /JSON object/);
});

test("REST errors become Connect codes the e2b SDK maps to its typed errors", () => {
  const code = (status: number, c?: string) => connectErrorFromRest(status, { error: "msg", code: c }).code;
  assert.equal(code(404, "file_not_found"), "not_found");
  assert.equal(code(404, "process_not_found"), "not_found");
  assert.equal(code(404, "sandbox_not_found"), "unavailable");
  assert.equal(code(409, "file_exists"), "already_exists");
  assert.equal(code(409, "conflict"), "failed_precondition");
  assert.equal(code(400, "invalid_path"), "invalid_argument");
  assert.equal(code(401, "unauthorized"), "unauthenticated");
  assert.equal(code(403, "forbidden"), "permission_denied");
  assert.equal(code(413, "too_many_entries"), "resource_exhausted");
  assert.equal(code(429, "process_limit"), "resource_exhausted");
  assert.equal(code(503), "unavailable");
  assert.equal(code(500), "internal");
  assert.equal(connectErrorFromRest(404, { error: "no such file: /x", code: "file_not_found" }).message, "no such file: /x");
  assert.match(connectErrorFromRest(401, { error: "missing API key", code: "unauthorized" }).message, /E2B_API_KEY/);
  assert.equal(connectErrorFromRest(502, null).message, "hostd answered 502");
});
