// Streamable HTTP at hostd's /mcp, driven by the official Client.
import assert from "node:assert/strict";
import { test } from "node:test";
import { api, hostdUrl } from "../support/api.js";
import { httpConn, ok, sandboxGone } from "./support.js";
import { toolSuite } from "./tool-suite.js";

toolSuite("http", hostdUrl, () => httpConn(hostdUrl()));

test("http: DELETE with the Mcp-Session-Id ends the session; the id then answers 404 mcp_session_not_found", async () => {
  const c = await httpConn(hostdUrl());
  const id = String((await ok(c.client, "run_python", { code: "print(1)" }))["sandbox_id"]);
  const sid = c.transport.sessionId!;
  assert.ok(sid);
  const del = await api("DELETE", "/mcp", undefined, hostdUrl(), { "mcp-session-id": sid });
  assert.equal(del.status, 204);
  await sandboxGone(hostdUrl(), id, {}, 5_000);
  const again = await api("POST", "/mcp", { jsonrpc: "2.0", id: 1, method: "tools/list" }, hostdUrl(), {
    "mcp-session-id": sid,
    accept: "application/json, text/event-stream",
  });
  assert.equal(again.status, 404);
  assert.equal(((await again.json()) as { code: string }).code, "mcp_session_not_found");
  await c.client.close();
});

test("http: GET /mcp answers 405 (no server-initiated stream); a POST that is not initialize gets no session", async () => {
  const c = await httpConn(hostdUrl());
  try {
    const get = await api("GET", "/mcp", undefined, hostdUrl(), { "mcp-session-id": c.transport.sessionId!, accept: "text/event-stream" });
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    const stray = await api("POST", "/mcp", { jsonrpc: "2.0", id: 1, method: "tools/list" }, hostdUrl(), { accept: "application/json, text/event-stream" });
    assert.equal(stray.status, 400);
    assert.equal(stray.headers.get("mcp-session-id"), null);
    // The transport's own JSON-RPC error, as docs/mcp.md says (MCP clients read that shape).
    const body = (await stray.json()) as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(body.jsonrpc, "2.0");
    assert.match(body.error.message, /not initialized/);
    const del = await api("DELETE", "/mcp", undefined, hostdUrl());
    assert.equal(del.status, 400);
    assert.equal(((await del.json()) as { code: string }).code, "bad_request");
  } finally {
    await c.end();
  }
});
