// Error classes of the SDK. The code table comes from packages/protocol through the generated
// copy (generated/protocol.ts; this package is published alone).
// Over 400 lines because it is a table: one documented class per error code, so callers can catch each.
import { ErrorCode, errorStatus } from "./generated/protocol.js";

export { ErrorCode, errorStatus };

/** Codes the SDK raises itself, without an answer from the server (status 0). */
export const ClientErrorCode = {
  RequestTimeout: "request_timeout",
  ConnectionError: "connection_error",
  ProtocolError: "protocol_error",
  SandboxClosed: "sandbox_closed",
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(errorStatus, value);
}

export interface ErrorInit {
  /** HTTP status of the answer; defaults to the code's status in the table (0 for client errors). */
  status?: number;
  /** Response headers, lower-case names. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * Base of every error the SDK throws. `code` is the server's stable code (see
 * {@link ErrorCode}), a client code (see {@link ClientErrorCode}), or an unknown code passed
 * through as is; `status` is the HTTP status, 0 when no answer came.
 *
 * @example
 * try {
 *   await sb.runCode("print(1)");
 * } catch (err) {
 *   if (err instanceof PodflareError) console.error(err.code, err.status, err.message);
 * }
 */
export class PodflareError extends Error {
  readonly code: string;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: string, status: number, message: string, init: Omit<ErrorInit, "status"> = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.headers = init.headers ?? {};
  }
}

function statusOf(code: string, init: ErrorInit): number {
  return init.status ?? (isErrorCode(code) ? errorStatus[code] : 0);
}

// One class per server code. Codes that refine a broader one (sandbox_not_found is a
// not_found) extend its class, so `instanceof NotFoundError` catches every 404.

/** 400 `bad_request`: the request was malformed; the message says which field. */
export class BadRequestError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}, code: string = ErrorCode.BadRequest) {
    super(code, statusOf(code, init), message, init);
  }
}
/** 400 `invalid_json`: the body was not valid JSON. */
export class InvalidJsonError extends BadRequestError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.InvalidJson);
  }
}
/** 400 `unknown_language`: exec `language` must be "python" or "bash". */
export class UnknownLanguageError extends BadRequestError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.UnknownLanguage);
  }
}
/** 400 `invalid_path`: a file path was empty, relative where it must not be, or escaped the root. */
export class InvalidPathError extends BadRequestError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.InvalidPath);
  }
}
/** 401 `unauthorized`: missing or wrong API key; set `apiKey` or `PODFLARE_API_KEY`. */
export class UnauthorizedError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.Unauthorized, statusOf(ErrorCode.Unauthorized, init), message, init);
  }
}
/** 403 `forbidden`: the key is valid but may not do this. */
export class ForbiddenError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.Forbidden, statusOf(ErrorCode.Forbidden, init), message, init);
  }
}
/** 404 `not_found`: no such route (e.g. an endpoint this server does not provide yet). */
export class NotFoundError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}, code: string = ErrorCode.NotFound) {
    super(code, statusOf(code, init), message, init);
  }
}
/** 404 `sandbox_not_found`: the sandbox was closed, reaped, merged away, or never existed. */
export class SandboxNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.SandboxNotFound);
  }
}
/** 404 `template_not_found`. */
export class TemplateNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.TemplateNotFound);
  }
}
/** 404 `file_not_found`: no file or directory at that path inside the sandbox. */
export class FileNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.FileNotFound);
  }
}
/** 404 `space_not_found`: no such Space, or it was already resumed (a Space resumes once). */
export class SpaceNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.SpaceNotFound);
  }
}
/** 405 `method_not_allowed`. */
export class MethodNotAllowedError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.MethodNotAllowed, statusOf(ErrorCode.MethodNotAllowed, init), message, init);
  }
}
/** 409 `conflict`: the sandbox is in a state that does not allow this (e.g. paused). */
export class ConflictError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}, code: string = ErrorCode.Conflict) {
    super(code, statusOf(code, init), message, init);
  }
}
/** 409 `is_a_directory`: a file operation named a directory; use `list(path)` for directories. */
export class IsADirectoryError extends ConflictError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.IsADirectory);
  }
}
/** 409 `not_a_directory`: a listing named a file, or a parent in the path is a file. */
export class NotADirectoryError extends ConflictError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.NotADirectory);
  }
}
/** 413 `payload_too_large`: split the upload or the code. */
export class PayloadTooLargeError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.PayloadTooLarge, statusOf(ErrorCode.PayloadTooLarge, init), message, init);
  }
}
/**
 * 429 `concurrency_limit`: too many live sandboxes for this key. Close some, or wait
 * `retryAfterS` seconds when the server said so.
 */
export class ConcurrencyLimitError extends PodflareError {
  /** Seconds to wait before retrying, from `Retry-After`, when the server sent one. */
  readonly retryAfterS: number | undefined;
  constructor(message: string, init: ErrorInit & { retryAfterS?: number } = {}, code: string = ErrorCode.ConcurrencyLimit) {
    super(code, statusOf(code, init), message, init);
    this.retryAfterS = init.retryAfterS ?? parseRetryAfter(this.headers["retry-after"]);
  }
}
/**
 * 429 `rate_limited`: this key started sandboxes (creates, fork children, resumes) faster than
 * its tier allows; retry after `retryAfterS` seconds. A kind of `ConcurrencyLimitError`, so code
 * that waits out a full cap waits this out too.
 */
export class RateLimitedError extends ConcurrencyLimitError {
  constructor(message: string, init: ErrorInit & { retryAfterS?: number } = {}) {
    super(message, init, ErrorCode.RateLimited);
  }
}
/** 503 `sandbox_not_ready`: the sandbox is still starting or restarting; retry shortly. */
export class SandboxNotReadyError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.SandboxNotReady, statusOf(ErrorCode.SandboxNotReady, init), message, init);
  }
}
/**
 * 504 `exec_timeout`: a server-side operation ran out of time. (An exec that passes its
 * `timeoutMs` is not an error: it ends with exit code 124.)
 */
export class ExecTimeoutError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.ExecTimeout, statusOf(ErrorCode.ExecTimeout, init), message, init);
  }
}
/** 507 `no_space`: the sandbox's disk is full; remove files or create it with a larger `diskMb`. */
export class NoSpaceError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.NoSpace, statusOf(ErrorCode.NoSpace, init), message, init);
  }
}
/** 500 `runtime_error`: the sandbox runtime failed (the guest died, a snapshot failed, …). */
export class SandboxRuntimeError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.RuntimeError, statusOf(ErrorCode.RuntimeError, init), message, init);
  }
}
/** 500 `internal`: a bug in the server; the message is worth reporting. */
export class InternalError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.Internal, statusOf(ErrorCode.Internal, init), message, init);
  }
}
/** 503 `unavailable`: the server is starting, draining or out of capacity; retry later. */
export class UnavailableError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}, code: string = ErrorCode.Unavailable) {
    super(code, statusOf(code, init), message, init);
  }
}

/** 400 `invalid_port`: a port proxy URL named a port that is not an integer from 1 to 65535. */
export class InvalidPortError extends BadRequestError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.InvalidPort);
  }
}
/** 502 `upstream_error`: the server inside the sandbox broke the connection or answered something that is not HTTP. */
export class UpstreamError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}, code: string = ErrorCode.UpstreamError) {
    super(code, statusOf(code, init), message, init);
  }
}
/** 502 `port_not_listening`: nothing listens on that port inside the sandbox; start a server bound to 0.0.0.0 or 127.0.0.1. */
export class PortNotListeningError extends UpstreamError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.PortNotListening);
  }
}
/** 504 `upstream_timeout`: the server inside the sandbox did not answer in time. */
export class UpstreamTimeoutError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.UpstreamTimeout, statusOf(ErrorCode.UpstreamTimeout, init), message, init);
  }
}
/** 400 `region_unknown`: the server does not serve the `region` asked for; the message names the ones it does. */
export class RegionUnknownError extends BadRequestError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.RegionUnknown);
  }
}
/** 503 `sandbox_at_process_limit`: the sandbox's processes use its whole pids limit; end them with `killProcesses()`. */
export class SandboxAtProcessLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.SandboxAtProcessLimit, statusOf(ErrorCode.SandboxAtProcessLimit, init), message, init);
  }
}
/** 429 `context_limit`: the sandbox has as many REPL contexts as allowed (32); delete one first. */
export class ContextLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.ContextLimit, statusOf(ErrorCode.ContextLimit, init), message, init);
  }
}

/** 404 `process_not_found`: no process with that pid or tag was started through the API; see `processes.list()`. */
export class ProcessNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.ProcessNotFound);
  }
}
/** 429 `process_limit`: the sandbox runs as many API-started processes as allowed; wait for or kill some. */
export class ProcessLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.ProcessLimit, statusOf(ErrorCode.ProcessLimit, init), message, init);
  }
}
/** 429 `watch_limit`: the sandbox has as many open directory watches as allowed; stop one first. */
export class WatchLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.WatchLimit, statusOf(ErrorCode.WatchLimit, init), message, init);
  }
}
/** 409 `file_exists`: mkdir of a path that exists. */
export class FileExistsError extends ConflictError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.FileExists);
  }
}
/** 409 `directory_not_empty`: remove a non-empty directory without `recursive: true`. */
export class DirectoryNotEmptyError extends ConflictError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.DirectoryNotEmpty);
  }
}
/** 413 `too_many_entries`: a listing over the entry cap; list a subdirectory or a smaller depth. */
export class TooManyEntriesError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.TooManyEntries, statusOf(ErrorCode.TooManyEntries, init), message, init);
  }
}
/** 429 `exec_queue_full`: as many execs wait in the sandbox as allowed; wait for some to finish, or fork and run in parallel. */
export class ExecQueueFullError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.ExecQueueFull, statusOf(ErrorCode.ExecQueueFull, init), message, init);
  }
}
/** 409 `not_a_regular_file`: a download of a device, FIFO or socket; copy what you need into a regular file. */
export class NotARegularFileError extends ConflictError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.NotARegularFile);
  }
}

/** 408 `request_timeout`: the request's head did not arrive within the server's headers timeout; send it whole, at once. */
export class RequestTimeoutError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.RequestTimeout, statusOf(ErrorCode.RequestTimeout, init), message, init);
  }
}
/** 431 `headers_too_large`: the request's headers are over the server's limit; send fewer or shorter ones. */
export class HeadersTooLargeError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.HeadersTooLarge, statusOf(ErrorCode.HeadersTooLarge, init), message, init);
  }
}

/**
 * 410 `sandbox_expired`: the sandbox reached its `maxLifetimeS` and was closed (or frozen to a
 * Space when persistent); create a new one, or resume the Space. Distinct from a request timeout
 * and from an exec's own timeout.
 */
export class SandboxExpiredError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.SandboxExpired, statusOf(ErrorCode.SandboxExpired, init), message, init);
  }
}
/** 429 `space_limit`: the key holds as many Spaces as its tier allows; delete or resume one. */
export class SpaceLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.SpaceLimit, statusOf(ErrorCode.SpaceLimit, init), message, init);
  }
}
/** 507 `space_storage_limit`: the key's Spaces would take more disk than its tier allows; delete or resume some. */
export class SpaceStorageLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.SpaceStorageLimit, statusOf(ErrorCode.SpaceStorageLimit, init), message, init);
  }
}

/** 429 `mcp_session_limit`: too many open MCP sessions for this key or host; end one (HTTP DELETE /mcp) or wait for an idle one to time out. */
export class McpSessionLimitError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ErrorCode.McpSessionLimit, statusOf(ErrorCode.McpSessionLimit, init), message, init);
  }
}
/** 404 `mcp_session_not_found`: the Mcp-Session-Id is unknown, ended or timed out; initialize a new MCP session. */
export class McpSessionNotFoundError extends NotFoundError {
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.McpSessionNotFound);
  }
}
/**
 * 503 `region_unavailable`: an edge cannot reach the region that holds this sandbox or Space;
 * retry after `Retry-After` seconds (other regions are unaffected; docs/edge.md).
 */
export class RegionUnavailableError extends UnavailableError {
  /** Seconds to wait before retrying, from `Retry-After` (the edge's probe interval). */
  readonly retryAfterS: number | undefined;
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init, ErrorCode.RegionUnavailable);
    this.retryAfterS = parseRetryAfter(this.headers["retry-after"]);
  }
}

// Client-side errors: no answer, or an answer the SDK could not use.

/**
 * The server was silent for longer than the client's `timeoutMs`. Distinct from an exec
 * passing its own `timeoutMs` (exit code 124) and from a sandbox expiring (404).
 */
export class TimeoutError extends PodflareError {
  constructor(message: string, init: Omit<ErrorInit, "status"> = {}) {
    super(ClientErrorCode.RequestTimeout, 0, message, init);
  }
}
/** The server could not be reached, or the connection broke mid-answer. */
export class ConnectionError extends PodflareError {
  constructor(message: string, init: Omit<ErrorInit, "status"> = {}) {
    super(ClientErrorCode.ConnectionError, 0, message, init);
  }
}
/** The server answered something this SDK cannot read (e.g. an exec stream without an exit event). */
export class ProtocolError extends PodflareError {
  constructor(message: string, init: ErrorInit = {}) {
    super(ClientErrorCode.ProtocolError, init.status ?? 0, message, init);
  }
}
/** The Sandbox object was closed (or merged away, or frozen); create or connect a new one. */
export class SandboxClosedError extends PodflareError {
  constructor(message: string) {
    super(ClientErrorCode.SandboxClosed, 0, message);
  }
}

type ServerErrorClass = new (message: string, init?: ErrorInit) => PodflareError;

/** One class per server code; the Record type makes the compiler refuse a code without one. */
export const errorClasses: Record<ErrorCode, ServerErrorClass> = {
  bad_request: BadRequestError,
  invalid_json: InvalidJsonError,
  unknown_language: UnknownLanguageError,
  invalid_path: InvalidPathError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  not_found: NotFoundError,
  sandbox_not_found: SandboxNotFoundError,
  template_not_found: TemplateNotFoundError,
  file_not_found: FileNotFoundError,
  space_not_found: SpaceNotFoundError,
  method_not_allowed: MethodNotAllowedError,
  conflict: ConflictError,
  is_a_directory: IsADirectoryError,
  not_a_directory: NotADirectoryError,
  payload_too_large: PayloadTooLargeError,
  concurrency_limit: ConcurrencyLimitError,
  sandbox_not_ready: SandboxNotReadyError,
  exec_timeout: ExecTimeoutError,
  no_space: NoSpaceError,
  runtime_error: SandboxRuntimeError,
  internal: InternalError,
  unavailable: UnavailableError,
  invalid_port: InvalidPortError,
  port_not_listening: PortNotListeningError,
  upstream_error: UpstreamError,
  upstream_timeout: UpstreamTimeoutError,
  region_unknown: RegionUnknownError,
  sandbox_expired: SandboxExpiredError,
  space_limit: SpaceLimitError,
  space_storage_limit: SpaceStorageLimitError,
  sandbox_at_process_limit: SandboxAtProcessLimitError,
  mcp_session_limit: McpSessionLimitError,
  mcp_session_not_found: McpSessionNotFoundError,
  context_limit: ContextLimitError,
  region_unavailable: RegionUnavailableError,
  process_not_found: ProcessNotFoundError,
  process_limit: ProcessLimitError,
  watch_limit: WatchLimitError,
  file_exists: FileExistsError,
  directory_not_empty: DirectoryNotEmptyError,
  too_many_entries: TooManyEntriesError,
  exec_queue_full: ExecQueueFullError,
  not_a_regular_file: NotARegularFileError,
  request_timeout: RequestTimeoutError,
  headers_too_large: HeadersTooLargeError,
  rate_limited: RateLimitedError,
};

// Answers without a code (the hosted service's 401, a proxy's 502, …) map by status
// where the status names one meaning.
const codeForStatus: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  409: "conflict",
  413: "payload_too_large",
  429: "concurrency_limit",
  431: "headers_too_large",
  500: "internal",
  503: "unavailable",
  507: "no_space",
};

const hints: Partial<Record<ErrorCode, string>> = {
  unauthorized: "pass apiKey or set PODFLARE_API_KEY",
  not_found: "this server may not provide this endpoint yet",
};

export type HeadersLike =
  | Headers
  | Record<string, string | string[] | number | undefined>
  | undefined;

function normalizeHeaders(headers: HeadersLike): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (typeof (headers as Headers).forEach === "function" && typeof (headers as Headers).get === "function") {
    (headers as Headers).forEach((value, key) => (out[key.toLowerCase()] = value));
    return out;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function parseBody(body: unknown): { message?: string; code?: string; raw?: string; retryAfterS?: number } {
  let value = body;
  if (value instanceof Uint8Array) value = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  if (typeof value === "string") {
    const text = value;
    try {
      value = JSON.parse(text);
    } catch {
      return { raw: text.trim() };
    }
    if (typeof value !== "object" || value === null) return { raw: text.trim() };
  }
  if (typeof value !== "object" || value === null) return {};
  const obj = value as Record<string, unknown>;
  return {
    message: typeof obj["error"] === "string" ? obj["error"] : typeof obj["message"] === "string" ? obj["message"] : undefined,
    code: typeof obj["code"] === "string" ? obj["code"] : undefined,
    retryAfterS: typeof obj["retry_after_s"] === "number" ? obj["retry_after_s"] : undefined,
  };
}

/**
 * Turns an HTTP error answer into the matching typed error. `body` may be the raw bytes,
 * the text, or the parsed JSON. Unknown codes give a plain {@link PodflareError} carrying
 * the code and status; answers without a code map by status (401 → {@link UnauthorizedError}).
 *
 * @example
 * const err = errorFromResponse(404, '{"error":"no sandbox sbx_1","code":"sandbox_not_found"}', {});
 * err instanceof SandboxNotFoundError; // true
 */
export function errorFromResponse(status: number, body: unknown, headers?: HeadersLike, context?: string): PodflareError {
  const parsed = parseBody(body);
  const hdrs = normalizeHeaders(headers);
  const code = parsed.code ?? codeForStatus[status];
  let message = parsed.message ?? (parsed.raw ? parsed.raw.slice(0, 500) : `HTTP ${status}`);
  if (code !== undefined && isErrorCode(code)) {
    const hint = hints[code];
    // "not_found" gets its hint only where no route matched: a missing context or key says what it is.
    const routeMissing = parsed.code === undefined || /^no route for /.test(message);
    if (hint && !message.includes(hint) && (code !== "not_found" || routeMissing)) message += ` (${hint})`;
  }
  if (context && !message.includes(context)) message += ` [${context}]`;
  // hostd's own failures are in its log under this id: the caller can quote it.
  const requestId = hdrs["x-request-id"];
  if (status >= 500 && requestId && !message.includes(requestId)) message += ` (request ${requestId})`;
  const init: ErrorInit & { retryAfterS?: number } = { status, headers: hdrs };
  if (parsed.retryAfterS !== undefined) init.retryAfterS = parsed.retryAfterS;
  if (code !== undefined && isErrorCode(code)) return new errorClasses[code](message, init);
  return new PodflareError(code ?? `http_${status}`, status, message, { headers: hdrs });
}
