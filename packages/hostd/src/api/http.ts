// Small HTTP helpers: JSON answers, the error envelope, bounded JSON bodies.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PodflareError, type ErrorBody } from "@podflare/protocol";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function sendError(res: ServerResponse, err: unknown, log: (msg: string) => void): void {
  const e =
    err instanceof PodflareError
      ? err
      : new PodflareError("internal", `internal error: ${(err as Error)?.message ?? String(err)}`);
  if (e.code === "internal") log(`internal error: ${(err as Error)?.stack ?? String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorBody = e.toBody();
  // An answer before the whole body arrived (401, 413, a failed upload): read no more of it.
  // Node closes the connection after the answer; the linger bounds a client that keeps sending.
  const unread = res.req !== undefined && !res.req.complete;
  sendJson(res, e.status, body, unread ? { ...e.headers, connection: "close" } : e.headers);
  if (unread) closeAfterAnswer(res);
}

const CLOSE_LINGER_MS = 2000;

function closeAfterAnswer(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  res.req.pause();
  res.once("finish", () => {
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
  });
}

/** Reads a JSON object body of at most `maxBytes`; an empty body is `{}`. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new PodflareError("payload_too_large", `request body is over ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new PodflareError("payload_too_large", `request body is over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (total === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new PodflareError("invalid_json", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PodflareError("invalid_json", "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
