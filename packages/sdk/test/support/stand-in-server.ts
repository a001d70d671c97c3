// A tiny HTTP server for the SDK's unit tests: it plays hostd for pure protocol logic
// (streaming, errors, headers, keep-alive). Not part of the public API.

import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface SeenRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Which TCP connection carried it (1, 2, …): equal numbers mean keep-alive reuse. */
  connection: number;
  /** How many requests that connection had carried before this one. */
  connectionIndex: number;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse, raw: http.IncomingMessage) => void | Promise<void>;

export interface StandIn {
  url: string;
  requests: SeenRequest[];
  connections(): number;
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startStandIn(handler?: Handler): Promise<StandIn> {
  let current: Handler = handler ?? ((_req, res) => json(res, 404, { error: "no handler", code: "not_found" }));
  const requests: SeenRequest[] = [];
  const ids = new WeakMap<Socket, { id: number; count: number }>();
  let nextId = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const conn = ids.get(req.socket)!;
      const url = new URL(req.url ?? "/", "http://stand-in");
      const seen: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
        connection: conn.id,
        connectionIndex: conn.count++,
      };
      requests.push(seen);
      new Promise<void>((resolve) => resolve(current(seen, res, req))).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: String(err), code: "internal" });
        else res.destroy();
      });
    });
  });
  server.on("connection", (socket: Socket) => {
    ids.set(socket, { id: ++nextId, count: 0 });
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => nextId,
    handle(h) {
      current = h;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Writes an exec answer as NDJSON, all at once. */
export function ndjson(res: http.ServerResponse, events: unknown[]): void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.end(events.map((e) => JSON.stringify(e) + "\n").join(""));
}

export function createAnswer(id = "sbx_" + "a".repeat(32)): Record<string, unknown> {
  return {
    id,
    state: "ready",
    template: "default",
    applied: { memory_mb: 1024, disk_mb: 4096, vcpus: 2, idle_timeout_s: 300, max_lifetime_s: 1800, egress: true, persistent: false },
    clamped: [],
    warnings: [],
  };
}
