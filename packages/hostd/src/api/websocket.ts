// A minimal RFC 6455 WebSocket server side for the PTY (api/pty-routes.ts): the handshake,
// frames in (masked, possibly fragmented, bounded) and out (unmasked). No extensions.
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import { PodflareError } from "@podflare/protocol";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
export const OP = { cont: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface WsMessage {
  opcode: number;
  payload: Buffer;
}

/** The 101 answer to a valid WebSocket request; throws bad_request for anything else. */
export function handshake(req: IncomingMessage): string {
  const key = req.headers["sec-websocket-key"];
  if (req.method !== "GET" || (req.headers.upgrade ?? "").toLowerCase() !== "websocket" || typeof key !== "string" || req.headers["sec-websocket-version"] !== "13") {
    throw new PodflareError("bad_request", "the PTY is a WebSocket: send GET with Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13");
  }
  const accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

export function encodeWs(opcode: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Incremental reader of client frames; throws on a protocol error or a message over maxBytes. */
export class WsReader {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partOp = 0;
  private partBytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): WsMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: WsMessage[] = [];
    for (;;) {
      if (this.buf.length < 2) break;
      const fin = (this.buf[0]! & 0x80) !== 0;
      const opcode = this.buf[0]! & 0x0f;
      const masked = (this.buf[1]! & 0x80) !== 0;
      let len = this.buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        const big = this.buf.readBigUInt64BE(2);
        if (big > BigInt(this.maxBytes)) throw new Error(`a frame of ${big} bytes is over ${this.maxBytes}`);
        len = Number(big);
        off = 10;
      }
      if (len > this.maxBytes) throw new Error(`a frame of ${len} bytes is over ${this.maxBytes}`);
      const maskAt = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) break;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= this.buf[maskAt + (i % 4)]!;
      this.buf = this.buf.subarray(off + len);
      if (opcode >= 8) {
        out.push({ opcode, payload });
        continue;
      }
      if (opcode !== OP.cont) {
        this.partOp = opcode;
        this.parts = [];
        this.partBytes = 0;
      }
      this.parts.push(payload);
      this.partBytes += payload.length;
      if (this.partBytes > this.maxBytes) throw new Error(`a message over ${this.maxBytes} bytes`);
      if (fin) {
        out.push({ opcode: this.partOp, payload: Buffer.concat(this.parts) });
        this.parts = [];
        this.partBytes = 0;
      }
    }
    return out;
  }
}
