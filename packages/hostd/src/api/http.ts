// Small HTTP helpers: JSON answers, the error envelope, bounded JSON bodies.
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_JSON_DEPTH, PodflareError, nestsDeeperThan, type ErrorBody } from "@podflare/protocol";
import { bodyBudget } from "./body-budget.js";
import { noteAnsweredWhole, noteErrorCode, requestIdOf } from "./request-log.js";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// A streamed JSON answer is written in pieces of about this size.
const STREAM_PIECE_CHARS = 16 * 1024;

/**
 * `{"<field>": [items…]}` with status 200, serialized item by item and written only as fast as
 * the client reads (chunked): a long list costs hostd about one piece per connection, never the
 * whole answer, however large the items' metadata and however slow the client.
 */
export async function streamJsonList(res: ServerResponse, field: string, items: readonly unknown[]): Promise<void> {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  let piece = `{${JSON.stringify(field)}:[`;
  for (let i = 0; i < items.length; i++) {
    piece += (i ? "," : "") + JSON.stringify(items[i]);
    if (piece.length < STREAM_PIECE_CHARS) continue;
    const more = res.write(piece);
    piece = "";
    if (!more) await drainedOrClosed(res);
    if (res.destroyed) return;
  }
  res.end(piece + "]}");
}

/** Resolves once the response can take more (drain) or never will (close). */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function sendError(res: ServerResponse, err: unknown, log: (msg: string) => void): void {
  // The client hung up while its body was being read: nobody to answer, and not our bug
  // (the request line is logged with 499 as every call that ends this way).
  if (clientWentAway(res, err)) {
    res.destroy();
    return;
  }
  const e = err instanceof PodflareError ? err : storeFull(err) ?? internalError();
  noteErrorCode(res, e.code);
  if (e.code === "internal") {
    // Under the request's id: what the caller is told to look for.
    const id = requestIdOf(res);
    log(`internal error${id ? ` (request ${id})` : ""}: ${(err as Error)?.stack ?? String(err)}`);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorBody = e.toBody();
  // An answer before the whole body was read (401, 413, a failed upload): the connection is
  // closed after it, rather than the rest of the body read for a request already answered.
  if (res.req !== undefined && !res.req.complete) {
    answerThenClose(res, e.status, { "content-type": "application/json", ...e.headers }, JSON.stringify(body));
  } else sendJson(res, e.status, body, e.headers);
}

/**
 * What a caller is told of an error that is hostd's bug: not its text, which can name host paths
 * or quote a helper's stderr (the log line has it all, under the request's id).
 */
export function internalError(): PodflareError {
  return new PodflareError("internal", "internal error in hostd: its log has the details under this request's X-Request-Id; try again, and report it if it repeats");
}

/** The metadata store could not be written because the state dir's disk is full: say so (507). */
function storeFull(err: unknown): PodflareError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code !== "SQLITE_FULL") return undefined;
  return new PodflareError("no_space", "hostd's metadata store cannot be written: the disk holding its state dir (PODFLARE_STATE_DIR) is full; free space there, and the call works again");
}

function clientWentAway(res: ServerResponse, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return !(err instanceof PodflareError) && (code === "ECONNRESET" || code === "ECONNABORTED") && (res.req?.destroyed === true || res.destroyed);
}

export const CLOSE_LINGER_MS = 2000;

/**
 * A whole answer to a request whose body was not read (401, 413, a refused upload), then the
 * connection closed. `Connection: close` tells a keep-alive client not to send its next request
 * on it (without it, a client that reuses the connection at once, as Node's agent does, gets
 * "socket hang up" instead of this answer). Our side ends right after the answer (the client
 * sees it, then EOF), but what the client still sends is read and dropped until its body ends or
 * CLOSE_LINGER_MS passed: closing a socket with unread data resets it, and the reset can reach
 * the client before it read the answer. (Node's own close for `Connection: close` is that reset,
 * so the answer's end is held back until then.)
 */
export function answerThenClose(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  text: string | Buffer,
  reason?: string,
): void {
  const head = { ...headers, "content-length": Buffer.byteLength(text), connection: "close" };
  if (reason === undefined) res.writeHead(status, head);
  else res.writeHead(status, reason, head);
  // A HEAD answer has no body, and Node ignores a write to one without sending its head: the
  // head goes out by itself (it never did, and the client got nothing; outside tester tn).
  if (res.req?.method === "HEAD") {
    res.flushHeaders();
    noteAnsweredWhole(res);
  } else res.write(text, () => noteAnsweredWhole(res));
  res.socket?.end();
  const req = res.req;
  const end = (): void => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(end, CLOSE_LINGER_MS);
  timer.unref();
  if (req.complete || req.destroyed) return end();
  req.once("end", end);
  req.once("close", end);
  req.resume();
}

// A JSON body is small: a client that takes longer than this to send one is stalling.
export const JSON_BODY_TIMEOUT_MS = 30_000;

/** Reads a JSON object body of at most `maxBytes`; an empty body is `{}`. */
export function readJsonBody(req: IncomingMessage, maxBytes: number, timeoutMs = JSON_BODY_TIMEOUT_MS): Promise<Record<string, unknown>> {
  return withBody(req, maxBytes, timeoutMs, parseJsonObject);
}

/** A JSON object from a whole body: refused before parsing if it nests too deep. */
export function parseJsonObject(text: Buffer): Record<string, unknown> {
  if (text.length === 0) return {};
  refuseDeepJson(text);
  let value: unknown;
  try {
    value = JSON.parse(text.toString("utf8"));
  } catch (err) {
    throw new PodflareError("invalid_json", `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PodflareError("invalid_json", "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Throws before JSON.parse is given a text nested past MAX_JSON_DEPTH (it would hold the event loop for seconds). */
export function refuseDeepJson(text: Uint8Array): void {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new PodflareError("invalid_json", `request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays; no request needs that many`);
  }
}

/**
 * Reads a whole body of at most `maxBytes` within `timeoutMs` and hands it to `use` (a parse):
 * every byte held counts against the caller's and the host's body budget until `use` returns.
 * A refusal leaves the request flowing, not destroyed: what is left of the body is dropped as
 * it comes, and the answer (answerThenClose, via sendError) closes once it has come or after a
 * moment, so the client reads the refusal rather than a reset. (Leaving a `for await` over the request early destroyed it, and the connection was
 * then closed with the rest of the body unread: the reset lost the 429; outside tester ti's flood.)
 */
export async function withBody<T>(req: IncomingMessage, maxBytes: number, timeoutMs: number, use: (body: Buffer) => T): Promise<T> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    throw new PodflareError("payload_too_large", `request body is over ${maxBytes} bytes`);
  }
  const budget = bodyBudget();
  const chunks: Buffer[] = [];
  let taken = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      if (req.readableEnded) return resolve();
      if (req.destroyed) return reject(clientGone());
      let total = 0;
      const stop = (): void => {
        clearTimeout(timer);
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("close", onClose);
        req.off("error", onError);
      };
      const fail = (err: unknown): void => {
        stop();
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        total += chunk.length;
        if (total > maxBytes) return fail(new PodflareError("payload_too_large", `request body is over ${maxBytes} bytes`));
        try {
          budget.take(req, chunk.length);
        } catch (err) {
          return fail(err);
        }
        taken += chunk.length;
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        stop();
        resolve();
      };
      const onClose = (): void => fail(clientGone());
      const onError = (err: Error): void => fail(err);
      const timer = setTimeout(() => fail(new PodflareError("bad_request", `the request body did not arrive within ${timeoutMs} ms; send it at once`)), timeoutMs);
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("close", onClose);
      req.on("error", onError);
    });
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks.length = 0;
    return use(body);
  } finally {
    chunks.length = 0;
    budget.give(req, taken);
  }
}

/** What reading a body whose client hung up throws: sendError answers nobody (499 in the log). */
function clientGone(): Error {
  return Object.assign(new Error("aborted"), { code: "ECONNRESET" });
}
