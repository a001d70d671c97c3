// The PTY's WebSocket codec: client frames (masked, fragmented, split across reads) decode to
// whole messages; oversize frames and messages are refused before they are buffered.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { MAX_CONTROL_PAYLOAD_BYTES, OP, WsError, WsReader, encodeWs, handshake } from "./websocket.js";
import type { IncomingMessage } from "node:http";

/** A frame as a client sends it: masked. */
function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, 0x80 | len]) : Buffer.from([0, 0x80 | 126, len >> 8, len & 0xff]);
  head[0] = (fin ? 0x80 : 0) | opcode;
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

test("masked frames split at every byte decode to the same messages", () => {
  const bytes = Buffer.concat([clientFrame(OP.binary, Buffer.from("ls -la\r")), clientFrame(OP.text, Buffer.from('{"type":"resize","rows":3,"cols":4}')), clientFrame(OP.ping, Buffer.from("p"))]);
  const r = new WsReader(1024);
  const got = [];
  for (const b of bytes) got.push(...r.push(Buffer.from([b])));
  assert.deepEqual(got.map((m) => [m.opcode, m.payload.toString()]), [[OP.binary, "ls -la\r"], [OP.text, '{"type":"resize","rows":3,"cols":4}'], [OP.ping, "p"]]);
});

test("fragments join into one message; a control frame may come between them", () => {
  const r = new WsReader(1024);
  const got = r.push(Buffer.concat([
    clientFrame(OP.binary, Buffer.from("ab"), false),
    clientFrame(OP.ping, Buffer.from("")),
    clientFrame(OP.cont, Buffer.from("cd"), true),
  ]));
  assert.deepEqual(got.map((m) => [m.opcode, m.payload.toString()]), [[OP.ping, ""], [OP.binary, "abcd"]]);
});

test("a frame or a fragmented message over the bound is refused", () => {
  assert.throws(() => new WsReader(100).push(clientFrame(OP.binary, Buffer.alloc(200))), /over 100/);
  const huge = Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0]); // 4 GiB announced
  assert.throws(() => new WsReader(100).push(huge), /over 100/);
  const r = new WsReader(100);
  assert.throws(() => {
    for (let i = 0; i < 5; i++) r.push(clientFrame(i === 0 ? OP.binary : OP.cont, Buffer.alloc(30), false));
  }, /over 100/);
});

test("a control frame over 125 bytes or fragmented is a protocol error (1002), before its payload is read", () => {
  const isCode = (code: number) => (e: unknown) => e instanceof WsError && e.closeCode === code;
  assert.equal(new WsReader(1 << 20).push(clientFrame(OP.ping, Buffer.alloc(MAX_CONTROL_PAYLOAD_BYTES)))[0]!.payload.length, 125);
  assert.throws(() => new WsReader(1 << 20).push(clientFrame(OP.ping, Buffer.alloc(126))), isCode(1002));
  // Only the header of a 1 MB ping arrived: refused already.
  assert.throws(() => new WsReader(1 << 20).push(clientFrame(OP.ping, Buffer.alloc(1 << 20)).subarray(0, 10)), isCode(1002));
  assert.throws(() => new WsReader(1 << 20).push(clientFrame(OP.pong, Buffer.alloc(1), false)), isCode(1002));
  assert.throws(() => new WsReader(100).push(clientFrame(OP.binary, Buffer.alloc(200))), isCode(1009));
});

test("server frames are unmasked with the right length encoding; the handshake answers the key", () => {
  for (const n of [0, 125, 126, 65535, 65536]) {
    const f = encodeWs(OP.binary, Buffer.alloc(n, 1));
    assert.equal(f[0], 0x82);
    assert.equal(f[1]! & 0x80, 0);
    assert.equal(f.length - n, n < 126 ? 2 : n < 65536 ? 4 : 10);
  }
  const req = { method: "GET", headers: { upgrade: "websocket", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } } as unknown as IncomingMessage;
  assert.match(handshake(req), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/); // RFC 6455's example
  assert.throws(() => handshake({ ...req, headers: { upgrade: "websocket" } } as unknown as IncomingMessage), /WebSocket/);
});

test("what RFC 6455 says must fail the connection does, with 1002: an unmasked frame, an RSV bit, a reserved opcode, a stray continuation, a message inside a message", () => {
  const protocolError = (bytes: Buffer, message: RegExp) =>
    assert.throws(() => new WsReader(1024).push(bytes), (e: unknown) => e instanceof WsError && e.closeCode === 1002 && message.test(e.message));
  protocolError(Buffer.from("\x82\x05hello", "latin1"), /must be masked/);
  const rsv = clientFrame(OP.binary, Buffer.from("x"));
  rsv[0]! |= 0x40;
  protocolError(rsv, /RSV bit/);
  protocolError(clientFrame(3, Buffer.from("x")), /opcode 3 is reserved/);
  protocolError(clientFrame(0xb, Buffer.from("")), /opcode 11 is reserved/);
  protocolError(clientFrame(OP.cont, Buffer.from("x")), /no message to continue/);
  protocolError(Buffer.concat([clientFrame(OP.text, Buffer.from("a"), false), clientFrame(OP.text, Buffer.from("b"))]), /before the fragmented one ended/);
  // After a whole message, a new one (and then a continuation-less single frame) is fine.
  const r = new WsReader(1024);
  const got = r.push(Buffer.concat([clientFrame(OP.text, Buffer.from("a"), false), clientFrame(OP.cont, Buffer.from("b")), clientFrame(OP.binary, Buffer.from("c"))]));
  assert.deepEqual(got.map((m) => [m.opcode, m.payload.toString()]), [[OP.text, "ab"], [OP.binary, "c"]]);
});
