// /mcp behind hostd's auth, on a hostd of this test's own with API keys, a short MCP idle
// timeout and a small per-key session cap: no key, another key's session or sandbox, too many
// sessions, abandoned sessions.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { call, httpConn, ok, sandboxAlive, sandboxGone, stdioConn } from "../mcp/support.js";

const { stateDir, port } = ownHostd("mcp", 60);
const keyA = "pf_test_key_mcp_aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const keyB = "pf_test_key_mcp_bbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const as = (key: string) => ({ authorization: `Bearer ${key}` });
const IDLE_S = 3;
let hostd: TestHostd;

const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } };
const mcpHeaders = { accept: "application/json, text/event-stream" };

before(async () => {
  hostd = await startTestHostd({
    stateDir,
    port,
    env: { PODFLARE_API_KEYS: `${keyA},${keyB}`, PODFLARE_MCP_IDLE_TIMEOUT_S: String(IDLE_S), PODFLARE_MCP_MAX_SESSIONS_PER_KEY: "2" },
  });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("no key → 401 on /mcp when keys exist, a wrong key → 401, and no session is made", async () => {
  let res = await api("POST", "/mcp", initialize, hostd.url, mcpHeaders);
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "missing Authorization: Bearer <key>", code: "unauthorized" });
  assert.equal(res.headers.get("mcp-session-id"), null);
  res = await api("POST", "/mcp", initialize, hostd.url, { ...mcpHeaders, ...as("pf_wrong") });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { code: string }).code, "unauthorized");
  await assert.rejects(httpConn(hostd.url), /401|Unauthorized|missing Authorization/);
});

test("a session belongs to its key: another key cannot use its Mcp-Session-Id, nor reach its sandbox by id", async () => {
  const a = await httpConn(hostd.url, as(keyA));
  const b = await httpConn(hostd.url, as(keyB));
  try {
    const idA = String((await ok(a.client, "run_python", { code: "secret = 1" }))["sandbox_id"]);
    const viaB = await call(b.client, "run_python", { code: "print(secret)", sandbox_id: idA });
    assert.equal(viaB.isError, true);
    assert.equal(viaB.json["code"], "sandbox_not_found");
    for (const tool of ["download", "close_sandbox"]) {
      const r = await call(b.client, tool, { sandbox_id: idA, path: "/etc/hostname" });
      assert.equal(r.json["code"], "sandbox_not_found", `${tool} on another key's sandbox`);
    }
    const listB = await ok(b.client, "list_sandboxes");
    assert.ok(!(listB["sandboxes"] as { id: string }[]).some((s) => s.id === idA));
    const hijack = await api("POST", "/mcp", { jsonrpc: "2.0", id: 2, method: "tools/list" }, hostd.url, {
      ...mcpHeaders,
      ...as(keyB),
      "mcp-session-id": a.transport.sessionId!,
    });
    assert.equal(hijack.status, 404);
    assert.equal(((await hijack.json()) as { code: string }).code, "mcp_session_not_found");
    const del = await api("DELETE", "/mcp", undefined, hostd.url, { ...as(keyB), "mcp-session-id": a.transport.sessionId! });
    assert.equal(del.status, 404);
    assert.equal(await sandboxAlive(hostd.url, idA, as(keyA)), true, "B's DELETE must not end A's session");
  } finally {
    await a.end();
    await b.end();
  }
});

test("sessions per key are capped: one more → 429 mcp_session_limit; ending one makes room", async () => {
  const s1 = await httpConn(hostd.url, as(keyA));
  const s2 = await httpConn(hostd.url, as(keyA));
  try {
    const res = await api("POST", "/mcp", initialize, hostd.url, { ...mcpHeaders, ...as(keyA) });
    assert.equal(res.status, 429);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, "mcp_session_limit");
    assert.match(body.error, /PODFLARE_MCP_MAX_SESSIONS_PER_KEY=2.*DELETE \/mcp/);
    // Another key is not affected.
    const other = await httpConn(hostd.url, as(keyB));
    await other.end();
    await s1.end();
    const s3 = await httpConn(hostd.url, as(keyA));
    await s3.end();
  } finally {
    await s1.end().catch(() => undefined);
    await s2.end();
  }
});

test("a running tool call is not idleness; an abandoned session ends after the idle timeout and closes its sandbox", async () => {
  const c = await httpConn(hostd.url, as(keyA));
  const slow = await ok(c.client, "run_python", { code: `import time; time.sleep(${IDLE_S + 1}); print('done')` });
  assert.equal(slow["stdout"], "done\n");
  const id = String(slow["sandbox_id"]);
  assert.equal((await ok(c.client, "run_python", { code: "print(1)" }))["sandbox_id"], id, "the session outlived a call longer than the idle timeout");
  // Abandon it: no DELETE, no more requests.
  await sandboxGone(hostd.url, id, as(keyA), IDLE_S * 1000 + 15_000);
  const res = await api("POST", "/mcp", { jsonrpc: "2.0", id: 3, method: "tools/list" }, hostd.url, {
    ...mcpHeaders,
    ...as(keyA),
    "mcp-session-id": c.transport.sessionId!,
  });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, "mcp_session_not_found");
  await c.client.close();
});

test("stdio: the server uses PODFLARE_API_KEY; without one, tools answer 401 as tool errors and it keeps serving", async () => {
  const good = await stdioConn(hostd.url, { PODFLARE_API_KEY: keyA });
  try {
    assert.equal((await ok(good.client, "run_python", { code: "print(7)" }))["stdout"], "7\n");
  } finally {
    await good.end();
  }
  const bad = await stdioConn(hostd.url);
  try {
    const r = await call(bad.client, "run_python", { code: "print(7)" });
    assert.equal(r.isError, true);
    assert.equal(r.json["code"], "unauthorized");
    assert.equal((await call(bad.client, "list_sandboxes")).json["code"], "unauthorized");
  } finally {
    await bad.end();
  }
});
