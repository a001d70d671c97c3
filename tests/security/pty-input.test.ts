// A PTY client that floods input at a program that never reads it costs hostd a bounded amount
// of memory: hostd stops reading the WebSocket while its writes to the guest are pending.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Sandbox } from "podflare";
import { hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";

let sb: Sandbox;
before(async () => {
  sb = await Sandbox.create({ host: hostdUrl() });
});
after(() => sb.close());

test("300 MB of input to a program that never reads: hostd's memory stays bounded, the sender is held back", async (t) => {
  const pid = hostdPid();
  const term = await sb.pty.open({ cmd: "sleep 300" });
  const socket = (term as unknown as { ws: { socket: net.Socket } }).ws.socket;
  const rssBefore = rssBytes(pid);
  const bound = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 300; i++) term.write(chunk);
  let peak = 0;
  let last = -1;
  let still = 0;
  // Until hostd took it all in (the defect) or the sender stays blocked across many polls.
  await eventually(() => {
    peak = Math.max(peak, rssBytes(pid) - rssBefore);
    if (peak > bound || socket.writableLength === 0) return true;
    still = socket.writableLength === last ? still + 1 : 0;
    last = socket.writableLength;
    return still >= 50;
  }, "neither was the sender held back nor did hostd take the input in", 120_000);
  t.diagnostic(`hostd RSS growth ${(peak / 2 ** 20).toFixed(1)} MB; ${(socket.writableLength / 2 ** 20).toFixed(0)} MB still waiting at the sender`);
  assert.ok(peak <= bound, `hostd's RSS grew by ${(peak / 2 ** 20).toFixed(0)} MB (bound ${bound / 2 ** 20} MB)`);
  assert.ok(socket.writableLength > 0, "all 300 MB left the sender although nobody read them");
  term.close();
  socket.destroy();
});
