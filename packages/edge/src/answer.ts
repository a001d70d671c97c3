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

/** Seconds a caller should wait before asking a down region again: about one probe interval. */
export function retryAfterS(probeIntervalMs: number): string {
  return String(Math.max(1, Math.ceil(probeIntervalMs / 1000)));
}
