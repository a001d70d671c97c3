// One request to an origin, and what became of it: an answer (headers received), or a
// failure that says whether the request had been fully sent. That distinction is the
// failover rule for creates: a request the origin may have read is never sent twice.
import type http from "node:http";
import type { Readable } from "node:stream";
import type { Region } from "./regions.js";

export type OriginResult =
  | { kind: "answer"; res: http.IncomingMessage; req: http.ClientRequest }
  /**
   * sent: the whole request was handed to the OS before the failure (the origin may have read it).
   * reused: it went on a keep-alive connection that had carried a request before.
   */
  | { kind: "failed"; sent: boolean; reason: string; connectFailed: boolean; reused: boolean };

// Headers that describe one hop, not the request (RFC 9110 §7.6.1), dropped both ways. Host
// is kept: the origin's port proxy tells the app inside which host the caller used.
export const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

export function forwardHeaders(src: http.IncomingHttpHeaders, clientAddr: string | undefined): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  // Expect: 100-continue was answered to the caller by the edge's own server already.
  for (const [k, v] of Object.entries(src)) if (v !== undefined && !hopByHop.has(k) && k !== "expect") out[k] = v;
  const xff = forwardedFor(src, clientAddr);
  if (xff) out["x-forwarded-for"] = xff;
  return out;
}

/** X-Forwarded-For with the caller appended (every request and WebSocket upgrade the edge relays). */
export function forwardedFor(src: http.IncomingHttpHeaders, clientAddr: string | undefined): string | undefined {
  const prior = src["x-forwarded-for"];
  if (!clientAddr) return prior === undefined ? undefined : Array.isArray(prior) ? prior.join(", ") : prior;
  return prior ? `${Array.isArray(prior) ? prior.join(", ") : prior}, ${clientAddr}` : clientAddr;
}

export function originPath(r: Region, path: string): string {
  return r.url.pathname.replace(/\/+$/, "") + path;
}

/** Sends method+path to the origin with a body (a Buffer, or a stream piped with backpressure). */
export function sendToOrigin(
  r: Region,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body: Buffer | Readable | undefined,
  connectTimeoutMs: number,
  /** On a new connection of its own, not a pooled one (a retry after a reused one broke). */
  fresh = false,
): Promise<OriginResult> {
  return new Promise((resolve) => {
    let settled = false;
    let sent = false;
    let connected = false;
    let reused = false;
    const req = r.transport.request({
      protocol: r.url.protocol,
      hostname: r.url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: r.url.port,
      method,
      path: originPath(r, path),
      headers,
      agent: fresh ? false : r.agent,
    });
    req.on("socket", (socket) => {
      // A reused keep-alive socket is connected already.
      if (!socket.connecting) {
        connected = true;
        reused = true;
        return;
      }
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no connection in ${connectTimeoutMs} ms`), { code: "ETIMEDOUT" })), connectTimeoutMs);
      socket.once("connect", () => {
        connected = true;
        clearTimeout(timer);
      });
      socket.once("close", () => clearTimeout(timer));
    });
    req.on("finish", () => (sent = true));
    req.on("response", (res) => {
      settled = true;
      resolve({ kind: "answer", res, req });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      resolve({ kind: "failed", sent, reason: err.code ?? "connection error", connectFailed: !connected, reused });
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on("error", () => req.destroy());
      body.pipe(req);
    }
  });
}
