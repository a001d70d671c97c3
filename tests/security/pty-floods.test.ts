// A PTY WebSocket client that floods hostd with messages that each get an answer (pings, bad
// text) and never reads the answers costs hostd a bounded amount of memory: control frames are
// capped at 125 bytes (RFC 6455), hostd stops reading a client whose answers have not drained,
// and a run of failed messages ends the session instead of being answered one by one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { processLimits } from "@podflare/protocol";
import { SandboxPool, hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { parseServerFrame, wsConnect, wsFrame } from "../support/websocket.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";

const OP = { text: 1, close: 8, ping: 9, pong: 10 };
const pool = new SandboxPool();
let id: string;
before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

async function openPty(): Promise<net.Socket> {
  const ws = await wsConnect(`${hostdUrl()}/v1/sandboxes/${id}/pty?cmd=${encodeURIComponent("sleep 300")}`);
  assert.equal(ws.status, 101, ws.body);
  return ws.socket!;
}

/** Every server frame until the close frame (or the connection's end), within `timeoutMs`. */
function framesUntilClose(socket: net.Socket, timeoutMs: number): Promise<{ frames: { opcode: number; payload: Buffer }[]; closeCode: number | null }> {
  return new Promise((resolve, reject) => {
    const frames: { opcode: number; payload: Buffer }[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close frame within ${timeoutMs} ms; ${frames.length} frames came (${frames.filter((f) => f.opcode === OP.pong).length} pongs)`));
    }, timeoutMs);
    const done = (closeCode: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ frames, closeCode });
    };
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let frame = parseServerFrame(buf); frame; frame = parseServerFrame(buf)) {
        buf = buf.subarray(frame.size);
        frames.push({ opcode: frame.opcode, payload: frame.payload });
        if (frame.opcode === OP.close) return done(frame.payload.readUInt16BE(0));
      }
    });
    socket.on("close", () => done(null));
    socket.resume();
  });
}

test("a ping over 125 bytes is a protocol error: the session closes with 1002, no 1 MB pong", async () => {
  const socket = await openPty();
  socket.write(wsFrame(OP.ping, Buffer.alloc(1 << 20, 0x70)));
  const { frames, closeCode } = await framesUntilClose(socket, 15_000);
  assert.equal(frames.filter((f) => f.opcode === OP.pong).length, 0, "a pong was sent for an oversized ping");
  assert.equal(closeCode, 1002);
  const errors = frames.filter((f) => f.opcode === OP.text).map((f) => JSON.parse(f.payload.toString()) as { type: string; error?: string });
  assert.ok(errors.some((e) => e.type === "error" && /125 bytes/.test(e.error ?? "")), JSON.stringify(errors));
});

test("160 MB of small pings from a client that never reads: hostd's memory stays bounded, the sender is held back", async (t) => {
  const pid = hostdPid();
  const socket = await openPty();
  socket.pause(); // never read: every pong hostd makes stays with hostd or in the kernel
  const rssBefore = rssBytes(pid);
  const bound = 64 * 1024 * 1024;
  const ping = wsFrame(OP.ping, Buffer.alloc(125, 0x70));
  const batch = Buffer.concat(Array.from({ length: 8192 }, () => ping)); // ~1 MB
  for (let i = 0; i < 160; i++) socket.write(batch);
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
  }, "neither was the sender held back nor did hostd take the pings in", 120_000);
  t.diagnostic(`hostd RSS growth ${(peak / 2 ** 20).toFixed(1)} MB; ${(socket.writableLength / 2 ** 20).toFixed(0)} MB still waiting at the sender`);
  socket.destroy();
  assert.ok(peak <= bound, `hostd's RSS grew by ${(peak / 2 ** 20).toFixed(0)} MB (bound ${bound / 2 ** 20} MB)`);
  assert.ok(socket.writableLength > 0, "all 160 MB left the sender although nobody read the pongs");
});

test("a flood of text messages that are not JSON gets a few error answers, then the session closes (1008)", async () => {
  const socket = await openPty();
  const bad = wsFrame(OP.text, Buffer.from("x"));
  socket.write(Buffer.concat(Array.from({ length: 100_000 }, () => bad)));
  const { frames, closeCode } = await framesUntilClose(socket, 15_000);
  const errors = frames.filter((f) => f.opcode === OP.text).map((f) => JSON.parse(f.payload.toString()) as { type: string; error: string }).filter((m) => m.type === "error");
  assert.equal(closeCode, 1008, `closed with ${closeCode} after ${errors.length} error answers`);
  assert.ok(errors.length <= processLimits.maxPtyFailedMessages + 1, `${errors.length} error answers for a flood`);
  assert.match(errors.at(-1)!.error, /messages failed; closing the session/);
});

test("after the floods, a PTY session still works; a client that ends its side without a close frame is not left half-open", async () => {
  const ws = await wsConnect(`${hostdUrl()}/v1/sandboxes/${id}/pty?cmd=${encodeURIComponent("cat")}`);
  assert.equal(ws.status, 101, ws.body);
  const socket = ws.socket!;
  let seen = "";
  socket.on("data", (d: Buffer) => (seen += d.toString("latin1")));
  socket.write(wsFrame(2, Buffer.from("still-here\r")));
  await eventually(() => seen.includes("still-here"), "the terminal did not echo the input", 15_000);
  // Before, hostd kept its side open for good (CLOSE-WAIT), and its stop waited for it.
  let ended = false;
  socket.on("end", () => (ended = true));
  socket.end();
  await eventually(() => ended, "hostd did not end its side after the client ended its own", 15_000);
  socket.destroy();
});

test("attaching to a process that is not there is refused before the upgrade: 404 process_not_found (it was upgraded, then closed with 1011)", async () => {
  for (const pid of ["nope", "999999"]) {
    const ws = await wsConnect(`${hostdUrl()}/v1/sandboxes/${id}/pty?pid=${pid}`);
    assert.equal(ws.status, 404, ws.body);
    assert.equal(ws.socket, null);
    assert.equal((JSON.parse(ws.body) as { code: string }).code, "process_not_found");
  }
});
