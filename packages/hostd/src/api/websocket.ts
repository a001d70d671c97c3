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

/** RFC 6455 5.5: a control frame (close, ping, pong) carries at most 125 bytes and is never fragmented. */
export const MAX_CONTROL_PAYLOAD_BYTES = 125;

/** A client frame that breaks the protocol or a bound; `closeCode` is what to close with. */
export class WsError extends Error {
  constructor(message: string, readonly closeCode: 1002 | 1009) {
    super(message);
  }
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

/** Incremental reader of client frames; throws WsError on a protocol error or a message over maxBytes. */
const KNOWN_OPCODES = new Set([0x0, 0x1, 0x2, 0x8, 0x9, 0xa]);

export class WsReader {
  // Chunks are joined only once a whole frame is there (joining on every read would copy a big
  // frame once per socket read).
  private chunks: Buffer[] = [];
  private total = 0;
  private need = 2;
  private parts: Buffer[] = [];
  private partOp = 0;
  private partBytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): WsMessage[] {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const out: WsMessage[] = [];
    while (this.total >= this.need) {
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.total);
      this.chunks = [buf];
      const frame = this.frame(buf);
      if (!frame) break;
      const rest = buf.subarray(frame.end);
      this.chunks = rest.length ? [rest] : [];
      this.total = rest.length;
      this.need = 2;
      const message = this.message(frame.fin, frame.opcode, frame.payload);
      if (message) out.push(message);
    }
    return out;
  }

  /** The frame at the start of `buf`, or null (and `need` set) when it is not all there. */
  private frame(buf: Buffer): { fin: boolean; opcode: number; payload: Buffer; end: number } | null {
    const fin = (buf[0]! & 0x80) !== 0;
    const opcode = buf[0]! & 0x0f;
    const masked = (buf[1]! & 0x80) !== 0;
    // RFC 6455 5.2/5.3: no extension was agreed, so no RSV bit; the other opcodes are
    // reserved; a client masks every frame. Each is a protocol error that fails the connection.
    if ((buf[0]! & 0x70) !== 0) throw new WsError("a frame with an RSV bit set: no extension was agreed (RFC 6455 5.2)", 1002);
    if (!KNOWN_OPCODES.has(opcode)) throw new WsError(`opcode ${opcode} is reserved (RFC 6455 5.2)`, 1002);
    if (!masked) throw new WsError("a client frame must be masked (RFC 6455 5.3)", 1002);
    let len = buf[1]! & 0x7f;
    let off = 2;
    // The 7-bit length decides it: 126 and 127 announce longer payloads.
    if (opcode >= 8 && (len > MAX_CONTROL_PAYLOAD_BYTES || !fin)) {
      throw new WsError(`a control frame (ping, pong, close) must be a single frame of at most ${MAX_CONTROL_PAYLOAD_BYTES} bytes (RFC 6455 5.5); send smaller pings`, 1002);
    }
    if (len === 126) {
      if (buf.length < 4) return this.wait(4);
      len = buf.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (buf.length < 10) return this.wait(10);
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(this.maxBytes)) throw new WsError(`a frame of ${big} bytes is over ${this.maxBytes}`, 1009);
      len = Number(big);
      off = 10;
    }
    if (len > this.maxBytes) throw new WsError(`a frame of ${len} bytes is over ${this.maxBytes}`, 1009);
    const maskAt = off;
    if (masked) off += 4;
    if (buf.length < off + len) return this.wait(off + len);
    const payload = Buffer.from(buf.subarray(off, off + len));
    if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
    return { fin, opcode, payload, end: off + len };
  }

  private wait(bytes: number): null {
    this.need = bytes;
    return null;
  }

  private message(fin: boolean, opcode: number, payload: Buffer): WsMessage | null {
    if (opcode >= 8) return { opcode, payload };
    // A continuation continues a message; a new message waits for the last one's end (5.4).
    if (opcode === OP.cont && this.partOp === 0) throw new WsError("a continuation frame with no message to continue (RFC 6455 5.4)", 1002);
    if (opcode !== OP.cont && this.partOp !== 0) throw new WsError("a new message before the fragmented one ended (RFC 6455 5.4)", 1002);
    if (opcode !== OP.cont) {
      this.partOp = opcode;
      this.parts = [];
      this.partBytes = 0;
    }
    this.parts.push(payload);
    this.partBytes += payload.length;
    if (this.partBytes > this.maxBytes) throw new WsError(`a message over ${this.maxBytes} bytes`, 1009);
    if (!fin) return null;
    const whole = { opcode: this.partOp, payload: Buffer.concat(this.parts) };
    this.parts = [];
    this.partBytes = 0;
    this.partOp = 0;
    return whole;
  }
}
