// Answers the edge gives itself, in the API's one error envelope.
import type http from "node:http";
import { PodflareError } from "@podflare/protocol";

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEdgeError(res: http.ServerResponse, err: PodflareError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.toBody(), err.headers);
}

/**
 * An error answer as raw HTTP/1.1, for sockets no ServerResponse owns (upgrades, the fast
 * path); `status` overrides the code's (a 431 is still a bad_request).
 */
export function rawErrorAnswer(err: PodflareError, close: boolean, status = err.status): string {
  const body = JSON.stringify(err.toBody());
  let head = `HTTP/1.1 ${status} ${err.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(err.headers)) head += `${k}: ${v}\r\n`;
  if (close) head += "connection: close\r\n";
  return `${head}\r\n${body}`;
}

/** Seconds a caller should wait before asking a down region again: about one probe interval. */
export function retryAfterS(probeIntervalMs: number): string {
  return String(Math.max(1, Math.ceil(probeIntervalMs / 1000)));
}
