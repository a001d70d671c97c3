// A raw WebSocket client for tests (Node 20 has no stable one): connect, send a frame, read one.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import type net from "node:net";

export interface WsAnswer {
  status: number;
  socket: net.Socket | null;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function wsConnect(url: string, headers: Record<string, string> = {}): Promise<WsAnswer> {
  const key = crypto.randomBytes(16).toString("base64");
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": key, ...headers },
    });
    req.on("upgrade", (res, socket, head) => {
      const expected = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      assert.equal(res.headers["sec-websocket-accept"], expected);
      if (head.length) socket.unshift(head);
      resolve({ status: res.statusCode!, socket, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve({ status: res.statusCode!, socket: null, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A masked client frame. */
export function wsFrame(opcode: number, payload: Buffer): Buffer {
  const mask = crypto.randomBytes(4);
  const n = payload.length;
  let head: Buffer;
  if (n < 126) head = Buffer.from([0x80 | opcode, 0x80 | n]);
  else if (n < 65536) head = Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255]);
  else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, mask, Buffer.from(payload.map((c, i) => c ^ mask[i % 4]!))]);
}

/** The first unmasked server frame in `buf` and its length in bytes, or null while it is partial. */
export function parseServerFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buf.length < 2) return null;
  let n = buf[1]! & 0x7f;
  let off = 2;
  if (n === 126) {
    if (buf.length < 4) return null;
    n = buf.readUInt16BE(2);
    off = 4;
  } else if (n === 127) {
    if (buf.length < 10) return null;
    n = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  if (buf.length < off + n) return null;
  return { opcode: buf[0]! & 0x0f, payload: buf.subarray(off, off + n), size: off + n };
}

/** Reads one unmasked server frame. */
export function wsRead(socket: net.Socket): Promise<{ opcode: number; payload: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const frame = parseServerFrame(buf);
      if (!frame) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      if (buf.length > frame.size) socket.unshift(buf.subarray(frame.size));
      resolve({ opcode: frame.opcode, payload: frame.payload });
    };
    const onClose = () => reject(new Error("websocket closed before a frame arrived"));
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}
