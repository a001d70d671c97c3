// One log line and one metrics observation per API request, when its answer ends (a stream
// included), with a request id echoed as X-Request-Id. What is logged is chosen here: the route
// pattern (never the raw path or query), the caller's key id (never the key), and a sandbox id
// only when it is one; no header and no body.
import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorStatus, sandboxIdPattern, type ErrorCode } from "@podflare/protocol";
import type { Logger } from "../log.js";
import type { HostdMetrics } from "../metrics/index.js";

/** An incoming id is kept when it is short and plain (a proxy's or a client's trace id). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestTrace {
  readonly id: string;
  /** The matched route's pattern ("/v1/sandboxes/:id/exec"), "unmatched" until one matches. */
  route: string;
  keyId?: string;
  sandboxId?: string;
}

export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => RequestTrace;

const ids = new WeakMap<ServerResponse, string>();
const errorCodes = new WeakMap<ServerResponse, string>();
const wholeBeforeEnd = new WeakSet<ServerResponse>();

/** The answer's bytes all went out, though its end waits (http.ts answerThenClose): not cut. */
export function noteAnsweredWhole(res: ServerResponse): void {
  wholeBeforeEnd.add(res);
}

/** The error code a request was answered with, or its stream cut by (sendError): logged with it. */
export function noteErrorCode(res: ServerResponse, code: string): void {
  errorCodes.set(res, code);
}

/** The X-Request-Id of the request `res` answers (for its error's log line), if it was observed. */
export function requestIdOf(res: ServerResponse): string | undefined {
  return ids.get(res);
}

export function requestId(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (typeof given === "string" && SANE_REQUEST_ID.test(given)) return given;
  return `req_${crypto.randomBytes(12).toString("hex")}`;
}

export function requestObserver(log: Logger, metrics?: HostdMetrics): RequestObserver {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const trace: RequestTrace = { id: requestId(req), route: "unmatched" };
    echoRequestId(res, trace.id);
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // 499: the client went away before any answer (nginx's convention).
      const status = res.headersSent ? res.statusCode : 499;
      // An answer whose head went out but whose body did not end: a stream cut short (by an
      // error after the head, or the client leaving). Its status alone would read as success.
      const cut = res.headersSent && !res.writableFinished && !wholeBeforeEnd.has(res);
      const method = req.method ?? "";
      metrics?.observeRequest(method, trace.route, status, seconds);
      const code = errorCodes.get(res);
      const cutBy = cut && code ? (errorStatus[code as ErrorCode] ?? 500) : 0;
      log.event(status >= 500 || cutBy >= 500 ? "error" : cutBy ? "warn" : "info", "request", {
        request_id: trace.id,
        method,
        route: trace.route,
        status,
        error_code: code,
        cut: cut || undefined,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        key_id: trace.keyId,
        sandbox_id: trace.sandboxId && sandboxIdPattern.test(trace.sandboxId) ? trace.sandboxId : undefined,
      });
    });
    return trace;
  };
}

/**
 * Adds X-Request-Id to the answer's head when it is written. Not with setHeader up front: a
 * head given as a raw array (the port proxy's, which may repeat Set-Cookie) would then be
 * merged through setHeader, keeping only the last of each name. An id the head already has
 * (a server inside a sandbox that sets its own) is left as it is.
 */
function echoRequestId(res: ServerResponse, id: string): void {
  ids.set(res, id);
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const last = args.length > 1 ? args[args.length - 1] : undefined;
    if (Array.isArray(last)) {
      let has = false;
      for (let i = 0; i < last.length; i += 2) if (String(last[i]).toLowerCase() === "x-request-id") has = true;
      if (!has) args[args.length - 1] = [...(last as unknown[]), "X-Request-Id", id];
    } else if (last && typeof last === "object") {
      if (!Object.keys(last).some((k) => k.toLowerCase() === "x-request-id")) args[args.length - 1] = { ...last, "x-request-id": id };
    } else if (!this.hasHeader("x-request-id")) {
      this.setHeader("x-request-id", id);
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse["writeHead"];
}
