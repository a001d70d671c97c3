// Streams a request to one region and its answer back, unbuffered both ways (exec NDJSON
// lines reach the caller as the origin writes them; uploads and downloads keep backpressure).
import type http from "node:http";
import { PodflareError } from "@podflare/protocol";
import { hopByHop, sendToOrigin, forwardHeaders, type OriginResult } from "./origin-request.js";
import { replayable } from "./choose-region.js";
import { sendEdgeError } from "./answer.js";
import { isE2bRequest } from "./route.js";
import type { Region } from "./regions.js";

export function responseHeaders(src: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(src)) if (v !== undefined && !hopByHop.has(k)) out[k] = v;
  return out;
}

/** Relays an origin's answer to the caller; a caller that goes away ends the origin's stream. */
export function relay(answer: Extract<OriginResult, { kind: "answer" }>, res: http.ServerResponse): void {
  const up = answer.res;
  // Headers go out with the first chunk, as the origin sent them; each chunk (an exec's
  // NDJSON line) is written on as it arrives, with backpressure.
  res.writeHead(up.statusCode ?? 502, responseHeaders(up.headers));
  up.pipe(res);
  up.on("error", () => res.destroy());
  // The caller leaving mid-answer must not leave the origin streaming into nothing.
  res.on("close", () => {
    if (!res.writableFinished) answer.req.destroy();
  });
}

export interface ForwardOptions {
  connectTimeoutMs: number;
  /** What to answer when no connection to the region could be made (called before any byte went back). */
  unreachable(region: Region, reason: string): PodflareError;
  /** What to answer when a connection was made but broke before the answer. */
  broken(region: Region, reason: string): PodflareError;
}

/** Forwards one request to a region; resolves with the status answered. */
export async function forward(region: Region, req: http.IncomingMessage, res: http.ServerResponse, opts: ForwardOptions): Promise<number> {
  const headers = forwardHeaders(req.headers, req.socket.remoteAddress);
  const hasBody = (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0") || req.headers["transfer-encoding"] !== undefined;
  const method = req.method ?? "GET";
  const send = (fresh: boolean) => sendToOrigin(region, method, req.url ?? "/", headers, hasBody ? req : undefined, opts.connectTimeoutMs, fresh);
  let result = await send(false);
  // The origin may have closed an idle connection as it was taken: a read goes again, once,
  // on a new connection.
  if (result.kind === "failed" && result.reused && replayable(method, hasBody)) result = await send(true);
  if (result.kind === "failed") {
    const err = result.connectFailed ? opts.unreachable(region, result.reason) : opts.broken(region, result.reason);
    sendEdgeError(res, err, isE2bRequest(req));
    return err.status;
  }
  relay(result, res);
  return result.res.statusCode ?? 502;
}
