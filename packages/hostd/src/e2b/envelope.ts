// E2B's error shapes. The control plane and envd answer `{code: <HTTP status>, message}` (the SDK
// reads `message`, and `code === 404` for "not found"); Connect-RPC answers its own error JSON.
import type { ServerResponse } from "node:http";
import { PodflareError } from "@podflare/protocol";
import { answerThenClose, internalError } from "../api/http.js";

export class E2bError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function sendE2bJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, reason?: string): void {
  const text = JSON.stringify(body);
  const head = { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers };
  if (reason === undefined) res.writeHead(status, head);
  else res.writeHead(status, reason, head);
  res.end(text);
}

/**
 * The message as the status line's reason phrase too: for most statuses the code interpreter
 * SDK's error says only `${status} ${statusText}`, so this is the only way it reaches the user.
 * Printable ASCII only (what a reason phrase may hold), cut at 300 characters.
 */
export function reasonPhrase(message: string): string {
  const clean = message.replace(/[^\x20-\x7e]+/g, " ").trim();
  return clean.length > 300 ? `${clean.slice(0, 297)}...` : clean;
}

export function sendE2bError(res: ServerResponse, err: unknown, log: (msg: string) => void): void {
  const e =
    err instanceof E2bError ? err
    : err instanceof PodflareError ? fromRest(err.status, err.toBody())
    : new E2bError(500, internalError().message);
  if (e.status === 500) log(`e2b: internal error: ${(err as Error)?.stack ?? String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An answer before the whole body was read (a refused upload): the connection closes after it
  // (answerThenClose says how the client still gets it).
  const body = { code: e.status, message: e.message };
  // Retry-After on a 429 or 503 goes on: E2B's SDK retries a 429 only when it has one.
  const headers = err instanceof PodflareError ? err.headers : {};
  if (!res.req.complete) {
    answerThenClose(res, e.status, { "content-type": "application/json", ...headers }, JSON.stringify(body), reasonPhrase(e.message));
  } else sendE2bJson(res, e.status, body, headers, reasonPhrase(e.message));
}

/** What the docs say about a call Podflare does not serve yet. */
export function unsupported(what: string): E2bError {
  return new E2bError(501, `${what} is not supported yet by Podflare self-hosted; see docs/e2b.md for what is`);
}

/**
 * A REST API error answer as an E2B error: same status, our message (which says what to do).
 * A missing key is named the E2B way, since an E2B client never sees our header.
 */
export function fromRest(status: number, body: unknown): E2bError {
  const b = (body ?? {}) as { error?: unknown; code?: unknown };
  let message = typeof b.error === "string" ? b.error : `hostd answered ${status}`;
  if (status === 401 && b.code === "unauthorized" && message.startsWith("missing")) {
    message = "missing X-API-KEY: set E2B_API_KEY to one of hostd's API keys (docs/e2b.md)";
  }
  return new E2bError(status, message);
}

/** Throws the E2B form of a non-2xx REST answer. */
export function expectOk(answer: { status: number; body: unknown }): void {
  if (answer.status < 200 || answer.status >= 300) throw fromRest(answer.status, answer.body);
}
