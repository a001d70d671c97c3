// The closed table of error codes. Every code has an HTTP status; the compiler refuses a
// code without one. Messages are written where the error is raised and name the fix.

export const ErrorCode = {
  BadRequest: "bad_request",
  InvalidJson: "invalid_json",
  UnknownLanguage: "unknown_language",
  InvalidPath: "invalid_path",
  Unauthorized: "unauthorized",
  Forbidden: "forbidden",
  NotFound: "not_found",
  SandboxNotFound: "sandbox_not_found",
  TemplateNotFound: "template_not_found",
  FileNotFound: "file_not_found",
  SpaceNotFound: "space_not_found",
  MethodNotAllowed: "method_not_allowed",
  Conflict: "conflict",
  IsADirectory: "is_a_directory",
  NotADirectory: "not_a_directory",
  PayloadTooLarge: "payload_too_large",
  ConcurrencyLimit: "concurrency_limit",
  SandboxNotReady: "sandbox_not_ready",
  ExecTimeout: "exec_timeout",
  NoSpace: "no_space",
  RuntimeError: "runtime_error",
  Internal: "internal",
  Unavailable: "unavailable",
  InvalidPort: "invalid_port",
  PortNotListening: "port_not_listening",
  UpstreamError: "upstream_error",
  UpstreamTimeout: "upstream_timeout",
  RegionUnknown: "region_unknown",
  SandboxExpired: "sandbox_expired",
  SpaceLimit: "space_limit",
  SpaceStorageLimit: "space_storage_limit",
  SandboxAtProcessLimit: "sandbox_at_process_limit",
  McpSessionLimit: "mcp_session_limit",
  McpSessionNotFound: "mcp_session_not_found",
  ContextLimit: "context_limit",
  RegionUnavailable: "region_unavailable",
  ProcessNotFound: "process_not_found",
  ProcessLimit: "process_limit",
  WatchLimit: "watch_limit",
  FileExists: "file_exists",
  DirectoryNotEmpty: "directory_not_empty",
  TooManyEntries: "too_many_entries",
  ExecQueueFull: "exec_queue_full",
  NotARegularFile: "not_a_regular_file",
  RequestTimeout: "request_timeout",
  HeadersTooLarge: "headers_too_large",
  RateLimited: "rate_limited",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  unknown_language: 400,
  invalid_path: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  sandbox_not_found: 404,
  template_not_found: 404,
  file_not_found: 404,
  space_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  is_a_directory: 409,
  not_a_directory: 409,
  payload_too_large: 413,
  concurrency_limit: 429,
  rate_limited: 429,
  sandbox_not_ready: 503,
  exec_timeout: 504,
  no_space: 507,
  runtime_error: 500,
  internal: 500,
  unavailable: 503,
  invalid_port: 400,
  port_not_listening: 502,
  upstream_error: 502,
  upstream_timeout: 504,
  region_unknown: 400,
  sandbox_expired: 410,
  space_limit: 429,
  space_storage_limit: 507,
  sandbox_at_process_limit: 503,
  mcp_session_limit: 429,
  mcp_session_not_found: 404,
  context_limit: 429,
  region_unavailable: 503,
  process_not_found: 404,
  process_limit: 429,
  watch_limit: 429,
  file_exists: 409,
  directory_not_empty: 409,
  too_many_entries: 413,
  exec_queue_full: 429,
  not_a_regular_file: 409,
  request_timeout: 408,
  headers_too_large: 431,
};

/** The one error envelope of the REST API: Podflare's `error` plus our stable `code`. */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && value in errorStatus;
}

/** An error that knows its code; the API layer turns it into `{error, code}` with the mapped status. */
export class PodflareError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After on a 429. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "PodflareError";
    this.code = code;
    this.status = errorStatus[code];
    this.headers = headers;
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code };
  }
}
