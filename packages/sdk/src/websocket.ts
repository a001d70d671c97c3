// A minimal RFC 6455 WebSocket client for the PTY (pty.ts): masked frames out, frames in
// (unmasked, possibly fragmented). Node 20 has no WebSocket without a flag, and this SDK
// has no dependencies.
import crypto from "node:crypto";
import { EventEmitter } from "node:events";
import type net from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export function newKey(): { key: string; accept: string } {
  const key = crypto.randomBytes(16).toString("base64");
  return { key, accept: crypto.createHash("sha1").update(key + GUID).digest("base64") };
}

function encode(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 6 : len < 65536 ? 8 : 14);
  head[0] = 0x80 | opcode;
  let off = 2;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
    off = 4;
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
    off = 10;
  }
  const mask = crypto.randomBytes(4);
  mask.copy(head, off);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, body]);
}

/** Emits "message" (opcode, payload) for text and binary messages, and "close". */
export class WsClient extends EventEmitter {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partOp = 0;
  private closed = false;

  constructor(private readonly socket: net.Socket, head: Buffer) {
    super();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.finish());
    socket.on("error", () => this.finish());
    if (head.length) queueMicrotask(() => this.onData(head));
  }

  send(opcode: number, payload: Buffer): void {
    if (this.closed) throw new Error("the terminal's WebSocket is closed");
    this.socket.write(encode(opcode, payload));
  }

  close(): void {
    if (this.closed) return;
    try {
      this.socket.write(encode(OP.close, Buffer.from([0x03, 0xe8])));
    } catch {
      // already gone
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close");
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0]! & 0x80) !== 0;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      this.buf = this.buf.subarray(off + len);
      if (opcode === OP.ping) this.send(OP.pong, payload);
      else if (opcode === OP.close) {
        this.close();
        this.finish();
      } else if (opcode >= 8) continue;
      else {
        if (opcode !== OP.cont) {
          this.partOp = opcode;
          this.parts = [];
        }
        this.parts.push(payload);
        if (fin) this.emit("message", this.partOp, Buffer.concat(this.parts));
      }
    }
  }
}
