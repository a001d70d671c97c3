// Answers the edge gives itself, in the API's one error envelope, or E2B's on E2B's paths.
import type http from "node:http";
import { PodflareError } from "@podflare/protocol";

function errorBody(err: PodflareError, e2b: boolean): unknown {
  return e2b ? { code: err.status, message: err.message } : err.toBody();
}

/** A reason phrase from a message: printable ASCII, at most 300 characters (hostd's e2b/envelope.ts). */
function reasonOf(err: PodflareError, e2b: boolean): string {
  if (!e2b) return err.code;
  const clean = err.message.replace(/[^\x20-\x7e]+/g, " ").trim();
  return clean.length > 300 ? `${clean.slice(0, 297)}...` : clean;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEdgeError(res: http.ServerResponse, err: PodflareError, e2b = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(errorBody(err, e2b));
  res.writeHead(err.status, reasonOf(err, e2b), { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...err.headers });
  res.end(text);
}

/**
 * An error answer as raw HTTP/1.1, for sockets no ServerResponse owns (upgrades, the fast
 * path); `status` overrides the code's (a 431 is still a bad_request).
 */
export function rawErrorAnswer(err: PodflareError, close: boolean, status = err.status, e2b = false): string {
  const body = JSON.stringify(errorBody(err, e2b));
  let head = `HTTP/1.1 ${status} ${reasonOf(err, e2b)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(err.headers)) head += `${k}: ${v}\r\n`;
  if (close) head += "connection: close\r\n";
  return `${head}\r\n${body}`;
}

/** Seconds a caller should wait before asking a down region again: about one probe interval. */
export function retryAfterS(probeIntervalMs: number): string {
  return String(Math.max(1, Math.ceil(probeIntervalMs / 1000)));
}
