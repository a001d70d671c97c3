// The Connect protocol (connectrpc.com/docs/protocol) with its JSON codec, as the `e2b` SDK's
// transport speaks it (`useBinaryFormat: false`): unary calls are a JSON body answered with JSON
// (errors: an HTTP status and `{code, message}`); server-streaming calls send one enveloped
// message (`application/connect+json`, 1 flag byte + 4-byte big-endian length + JSON) and get
// HTTP 200 with enveloped messages, then an end-of-stream envelope (flag 0x02) carrying `{}` or
// `{error}`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PodflareError, limits } from "@podflare/protocol";
import { JSON_BODY_TIMEOUT_MS, answerThenClose, drainedOrClosed, readJsonBody, refuseDeepJson, withBody } from "../api/http.js";

export type ConnectCode =
  | "canceled" | "unknown" | "invalid_argument" | "deadline_exceeded" | "not_found" | "already_exists"
  | "permission_denied" | "resource_exhausted" | "failed_precondition" | "aborted" | "out_of_range"
  | "unimplemented" | "internal" | "unavailable" | "data_loss" | "unauthenticated";

/** HTTP status of a unary error, as the protocol maps each code. */
const HTTP_STATUS: Record<ConnectCode, number> = {
  canceled: 499, unknown: 500, invalid_argument: 400, deadline_exceeded: 504, not_found: 404,
  already_exists: 409, permission_denied: 403, resource_exhausted: 429, failed_precondition: 400,
  aborted: 409, out_of_range: 400, unimplemented: 501, internal: 500, unavailable: 503,
  data_loss: 500, unauthenticated: 401,
};

export class ConnectError extends Error {
  constructor(readonly code: ConnectCode, message: string) {
    super(message);
  }
}

/**
 * A REST answer's error as a Connect error. Our stable `code` decides where it is finer than the
 * status (a missing sandbox is `unavailable`, which the SDK reads as "sandbox not running").
 */
export function connectErrorFromRest(status: number, body: unknown): ConnectError {
  const b = (body ?? {}) as { error?: unknown; code?: unknown };
  const message = typeof b.error === "string" ? b.error : `hostd answered ${status}`;
  const code = typeof b.code === "string" ? b.code : "";
  if (code === "sandbox_not_found" || code === "sandbox_closed") return new ConnectError("unavailable", message);
  if (code === "file_exists") return new ConnectError("already_exists", message);
  if (status === 400) return new ConnectError("invalid_argument", message);
  if (status === 401) return new ConnectError("unauthenticated", message.startsWith("missing") ? "missing X-API-KEY: set E2B_API_KEY to one of hostd's API keys (docs/e2b.md)" : message);
  if (status === 403) return new ConnectError("permission_denied", message);
  if (status === 404) return new ConnectError("not_found", message);
  if (status === 409) return new ConnectError("failed_precondition", message);
  if (status === 413 || status === 429 || status === 507) return new ConnectError("resource_exhausted", message);
  if (status === 502 || status === 503) return new ConnectError("unavailable", message);
  if (status === 504) return new ConnectError("deadline_exceeded", message);
  return new ConnectError("internal", message);
}

export function isStreamingRequest(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").startsWith("application/connect+");
}

/** The request message: a JSON body (unary) or the one envelope of a server-streaming call. */
export async function readConnectRequest(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  if (!isStreamingRequest(req)) {
    if (!type.startsWith("application/json")) {
      req.resume();
      throw new ConnectError("invalid_argument", `Content-Type ${type || "(none)"} is not served; use the Connect JSON codec (application/json, or application/connect+json for streams)`);
    }
    try {
      return await readJsonBody(req, limits.maxJsonBytes);
    } catch (err) {
      throw asConnectError(err);
    }
  }
  if (!type.startsWith("application/connect+json")) {
    req.resume();
    throw new ConnectError("invalid_argument", `Content-Type ${type} is not served; use the Connect JSON codec (application/connect+json)`);
  }
  // Read as a JSON body is: within the per-key body budget and a time limit.
  try {
    return await withBody(req, limits.maxJsonBytes + 5, JSON_BODY_TIMEOUT_MS, parseEnvelopedRequest);
  } catch (err) {
    throw asConnectError(err);
  }
}

/** A body's refusal in Connect's terms: too big or too many at once is resource_exhausted. */
function asConnectError(err: unknown): unknown {
  if (err instanceof ConnectError || !(err instanceof PodflareError)) return err;
  const exhausted = err.code === "payload_too_large" || err.code === "concurrency_limit";
  return new ConnectError(exhausted ? "resource_exhausted" : "invalid_argument", err.message);
}

/** The single message of a server-streaming request; exported for unit tests. */
export function parseEnvelopedRequest(body: Buffer): Record<string, unknown> {
  if (body.length < 5) throw new ConnectError("invalid_argument", "the request has no Connect envelope (1 flag byte, 4 length bytes, then the message)");
  const flags = body.readUInt8(0);
  const length = body.readUInt32BE(1);
  if (flags & 0x01) throw new ConnectError("invalid_argument", "compressed Connect messages are not served; send them uncompressed");
  if (body.length !== 5 + length) throw new ConnectError("invalid_argument", `the Connect envelope says ${length} bytes but ${body.length - 5} came; send exactly one message`);
  try {
    refuseDeepJson(body.subarray(5));
  } catch (err) {
    throw new ConnectError("invalid_argument", (err as Error).message);
  }
  let message: unknown;
  try {
    message = length === 0 ? {} : JSON.parse(body.subarray(5).toString("utf8"));
  } catch {
    throw new ConnectError("invalid_argument", "the request message is not valid JSON");
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) throw new ConnectError("invalid_argument", "the request message must be a JSON object");
  return message as Record<string, unknown>;
}

export function sendUnary(res: ServerResponse, message: unknown): void {
  const text = JSON.stringify(message);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/** The end-of-stream envelope: empty, or carrying the call's error. */
function endOfStream(error?: ConnectError): Buffer {
  return envelope(0x02, error ? { error: { code: error.code, message: error.message } } : {});
}

/** Writes a server stream: messages, then exactly one end-of-stream envelope. */
export class ConnectStream {
  private started = false;
  private ended = false;

  constructor(private readonly res: ServerResponse) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { "content-type": "application/connect+json" });
  }

  /** Resolves once the message is handed to the socket (backpressure: waits for drain). */
  async send(message: unknown): Promise<void> {
    if (this.ended || this.res.destroyed) return;
    this.start();
    if (!this.res.write(envelope(0x00, message))) await drainedOrClosed(this.res);
  }

  end(error?: ConnectError): void {
    if (this.ended) return;
    this.ended = true;
    if (this.res.destroyed) return;
    this.start();
    this.res.end(endOfStream(error));
  }
}

/** Answers a failed call in the form its kind wants. */
export function sendConnectError(req: IncomingMessage, res: ServerResponse, err: ConnectError, stream?: ConnectStream): void {
  if (stream || isStreamingRequest(req)) {
    // A refused body: the whole stream in one answer, the rest of the body drained, then closed.
    if (!req.complete && !res.headersSent) answerThenClose(res, 200, { "content-type": "application/connect+json" }, endOfStream(err));
    else (stream ?? new ConnectStream(res)).end(err);
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify({ code: err.code, message: err.message });
  // An answer before the whole body arrived (a refused caller): close after it, not read the rest.
  if (!req.complete) {
    answerThenClose(res, HTTP_STATUS[err.code], { "content-type": "application/json" }, text);
    return;
  }
  res.writeHead(HTTP_STATUS[err.code], { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
