// MCP over HTTP holds each answer whole until the client reads it (a download is ~30 MB on its
// way out). An outside tester (tj) made hostd hold 2.4 GB with one 5 KB JSON-RPC batch of forty
// downloads, and 1.7 GB with sixty downloads never read. Now a batch is refused, and a key has
// four calls at once: the rest wait, unread, until an earlier answer has been taken.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";

const url = new URL(hostdUrl());
let sid = "";

/** One POST /mcp on a connection of its own; `read: false` never reads the answer. */
function post(body: unknown, read = true): { socket: net.Socket; received: () => number; text: () => string } {
  const json = JSON.stringify(body);
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  let got = 0;
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => {
    got += c.length;
    if (chunks.length < 64) chunks.push(c);
  });
  socket.on("error", () => {});
  if (!read) socket.on("data", () => socket.pause());
  socket.write(
    `POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
      `${sid ? `Mcp-Session-Id: ${sid}\r\n` : ""}Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
  return { socket, received: () => got, text: () => Buffer.concat(chunks).toString("utf8") };
}

async function answer(body: unknown): Promise<string> {
  const p = post(body);
  await new Promise((r) => p.socket.once("close", r));
  return p.text();
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

before(async () => {
  const init = await answer({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  sid = /mcp-session-id: (\S+)/i.exec(init)![1]!;
  await answer({ jsonrpc: "2.0", method: "notifications/initialized" });
  const made = await answer(call(1, "run_bash", { code: "head -c 8000000 /dev/urandom > /root/big && echo made" }));
  assert.match(made, /made/);
});

after(async () => {
  await answer(call(2, "close_sandbox", {})).catch(() => "");
});

/** hostd's podflare_mcp_calls_waiting. */
async function callsWaiting(): Promise<number> {
  const text = await (await fetch(`${hostdUrl()}/metrics`)).text();
  return Number(/^podflare_mcp_calls_waiting (\d+)$/m.exec(text)?.[1] ?? NaN);
}

test("a JSON-RPC batch is refused with -32600 (one message per request); a batch of one still works", async () => {
  const batch = await answer(Array.from({ length: 40 }, (_, i) => call(100 + i, "download", { path: "/root/big" })));
  assert.match(batch, /^HTTP\/1\.1 400 /);
  assert.match(batch, /"code":-32600/);
  assert.match(batch, /batch of 40 messages/);
  const single = await answer([call(3, "run_bash", { code: "echo one" })]);
  assert.match(single, /^HTTP\/1\.1 200 /);
  assert.match(single, /one/);
});

test("twenty downloads never read: four answers are held at once, hostd's memory stays bounded, the rest wait; taking an answer lets the next go", async (t) => {
  const pid = hostdPid();
  const rssBefore = rssBytes(pid);
  const hogs = Array.from({ length: 20 }, (_, i) => post(call(200 + i, "download", { path: "/root/big" }), false));
  await eventually(() => hogs.filter((h) => h.received() > 0).length >= 4, "four answers begin", 60_000);
  // The fifth and later wait without an answer while the four are held: all sixteen are seen waiting.
  await eventually(async () => (await callsWaiting()) === 16, "sixteen calls waiting for a slot (podflare_mcp_calls_waiting)", 30_000);
  const answering = hogs.filter((h) => h.received() > 0);
  assert.equal(answering.length, 4, `${answering.length} answers under way at once`);
  const growth = rssBytes(pid) - rssBefore;
  t.diagnostic(`hostd RSS growth with 20 unread downloads: ${(growth / 2 ** 20).toFixed(0)} MB`);
  assert.ok(growth < 320 * 2 ** 20, `hostd's RSS grew by ${(growth / 2 ** 20).toFixed(0)} MB`);
  answering[0]!.socket.destroy();
  await eventually(() => hogs.filter((h) => !h.socket.destroyed && h.received() > 0).length >= 4, "a waiting call goes once an answer was taken", 30_000);
  for (const h of hogs) h.socket.destroy();
  // The session still serves once the unread answers are gone.
  await eventually(async () => /alive/.test(await answer(call(4, "run_bash", { code: "echo alive" }))), "the session answers", 30_000);
});
