// Streamable HTTP at hostd's /mcp, driven by the official Client.
import assert from "node:assert/strict";
import { test } from "node:test";
import { api, hostdUrl } from "../support/api.js";
import { until } from "../support/host.js";
import { httpConn, ok, sandboxAlive, sandboxGone } from "./support.js";
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

test("http: a call the client cancels interrupts its code (the next call runs at once) and leaves the session able to end", async () => {
  const c = await httpConn(hostdUrl());
  try {
    const id = String((await ok(c.client, "run_bash", { code: "rm -f /root/ticks" }))["sandbox_id"]);
    const abort = new AbortController();
    const cancelled = c.client.callTool({ name: "run_bash", arguments: { code: "for i in $(seq 1 30); do echo $i >> /root/ticks; sleep 0.2; done" } }, undefined, { signal: abort.signal });
    await until(async () => (await ok(c.client, "list_files", { path: "/root" }).then((j) => JSON.stringify(j).includes("ticks"), () => false)) || undefined, "the loop to start");
    abort.abort();
    await assert.rejects(cancelled);
    const started = Date.now();
    const after = await ok(c.client, "run_bash", { code: "wc -l < /root/ticks" });
    assert.ok(Date.now() - started < 3000, `the next call waited ${Date.now() - started} ms behind the cancelled one`);
    const ticks = Number(String(after["stdout"]).trim());
    assert.ok(ticks < 30, `the cancelled loop ran to its end (${ticks} lines)`);
    await until(async () => (await ok(c.client, "run_bash", { code: "wc -l < /root/ticks" }))["stdout"] === after["stdout"] || undefined, "the loop to stay stopped", 3000);
    assert.ok(await sandboxAlive(hostdUrl(), id));
  } finally {
    await c.end();
  }
});

test("http: a fork under way when the session ends: its children are closed and the call is answered", async () => {
  const c = await httpConn(hostdUrl());
  const parent = String((await ok(c.client, "run_bash", { code: "echo hi" }))["sandbox_id"]);
  const sid = c.transport.sessionId!;
  const before = new Set(((await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id));
  const forked = api("POST", "/mcp", { jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "fork", arguments: { n: 4 } } }, hostdUrl(), {
    "mcp-session-id": sid,
    accept: "application/json, text/event-stream",
  }).then(async (r) => ({ status: r.status, text: await r.text() }));
  // The DELETE right behind it: the fork is under way when the session ends.
  const del = await api("DELETE", "/mcp", undefined, hostdUrl(), { "mcp-session-id": sid });
  assert.equal(del.status, 204);
  const answer = await forked;
  assert.ok(answer.status > 0, "the fork's call was never answered");
  await sandboxGone(hostdUrl(), parent, {}, 10_000);
  await until(async () => {
    const now = ((await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
    return now.every((id) => before.has(id)) || undefined;
  }, "the fork's children outlived the session", 15_000);
  await c.client.close();
});
