"""Error codes and exception classes of the Podflare SDK.

Over 400 lines because it is a table: one documented class per error code, so callers can
catch each.

The code table comes from ``packages/protocol/src/errors.ts`` through the generated
``_protocol.py`` (this package is published alone). Class names mirror
the TypeScript SDK. Classes for codes that have a Python built-in twin also derive from
it, so ``except FileNotFoundError`` catches a missing file inside the sandbox too.
"""

from __future__ import annotations

import builtins
import email.utils
import json
import time
from typing import Any, Mapping

from ._protocol import ERROR_STATUS, ErrorCode


class ClientErrorCode:
    """Codes the SDK raises itself, without an answer from the server (status 0)."""

    REQUEST_TIMEOUT = "request_timeout"
    CONNECTION_ERROR = "connection_error"
    PROTOCOL_ERROR = "protocol_error"
    SANDBOX_CLOSED = "sandbox_closed"


class PodflareError(Exception):
    """Base of every error the SDK raises.

    ``code`` is the server's stable code (see :class:`ErrorCode`), a client code (see
    :class:`ClientErrorCode`) or an unknown code passed through as is; ``status`` is the
    HTTP status, 0 when no answer came.

    Example::

        try:
            sb.run_code("print(1)")
        except PodflareError as err:
            print(err.code, err.status, err.message)
    """

    def __init__(self, code: str, status: int, message: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class _ServerError(PodflareError):
    """A server code with a fixed class; ``status`` defaults to the table's."""

    code: str = ""

    def __init__(self, message: str, *, status: int | None = None, headers: Mapping[str, str] | None = None):
        code = type(self).code
        status = ERROR_STATUS.get(code, 0) if status is None else status
        PodflareError.__init__(self, code, status, message, headers=headers)


class BadRequestError(_ServerError):
    """400 ``bad_request``: the request was malformed; the message says which field."""

    code = ErrorCode.BAD_REQUEST


class InvalidJsonError(BadRequestError):
    """400 ``invalid_json``: the body was not valid JSON."""

    code = ErrorCode.INVALID_JSON


class UnknownLanguageError(BadRequestError):
    """400 ``unknown_language``: exec ``language`` must be "python" or "bash"."""

    code = ErrorCode.UNKNOWN_LANGUAGE


class InvalidPathError(BadRequestError):
    """400 ``invalid_path``: a file path was empty, relative where it must not be, or escaped the root."""

    code = ErrorCode.INVALID_PATH


class UnauthorizedError(_ServerError):
    """401 ``unauthorized``: missing or wrong API key; pass ``api_key`` or set ``PODFLARE_API_KEY``."""

    code = ErrorCode.UNAUTHORIZED


class ForbiddenError(_ServerError, builtins.PermissionError):
    """403 ``forbidden``: the key is valid but may not do this."""

    code = ErrorCode.FORBIDDEN


class NotFoundError(_ServerError):
    """404 ``not_found``: no such route (e.g. an endpoint this server does not provide yet)."""

    code = ErrorCode.NOT_FOUND


class SandboxNotFoundError(NotFoundError):
    """404 ``sandbox_not_found``: the sandbox was closed, reaped, merged away, or never existed."""

    code = ErrorCode.SANDBOX_NOT_FOUND


class TemplateNotFoundError(NotFoundError):
    """404 ``template_not_found``."""

    code = ErrorCode.TEMPLATE_NOT_FOUND


class FileNotFoundError(NotFoundError, builtins.FileNotFoundError):
    """404 ``file_not_found``: no file or directory at that path inside the sandbox."""

    code = ErrorCode.FILE_NOT_FOUND


class SpaceNotFoundError(NotFoundError):
    """404 ``space_not_found``: no such Space, or it was already resumed (a Space resumes once)."""

    code = ErrorCode.SPACE_NOT_FOUND


class MethodNotAllowedError(_ServerError):
    """405 ``method_not_allowed``."""

    code = ErrorCode.METHOD_NOT_ALLOWED


class ConflictError(_ServerError):
    """409 ``conflict``: the sandbox is in a state that does not allow this (e.g. paused)."""

    code = ErrorCode.CONFLICT


class IsADirectoryError(ConflictError, builtins.IsADirectoryError):
    """409 ``is_a_directory``: a file operation named a directory; use ``list(path)`` for directories."""

    code = ErrorCode.IS_A_DIRECTORY


class NotADirectoryError(ConflictError, builtins.NotADirectoryError):
    """409 ``not_a_directory``: a listing named a file, or a parent in the path is a file."""

    code = ErrorCode.NOT_A_DIRECTORY


class PayloadTooLargeError(_ServerError):
    """413 ``payload_too_large``: split the upload or the code."""

    code = ErrorCode.PAYLOAD_TOO_LARGE


class ConcurrencyLimitError(_ServerError):
    """429 ``concurrency_limit``: too many live sandboxes for this key.

    Close some, or wait ``retry_after_s`` seconds when the server said so (else None).
    """

    code = ErrorCode.CONCURRENCY_LIMIT

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(message, status=status, headers=headers)
        if retry_after_s is None:
            retry_after_s = _parse_retry_after(self.headers.get("retry-after"))
        self.retry_after_s = retry_after_s


class RateLimitedError(ConcurrencyLimitError):
    """429 ``rate_limited``: this key started sandboxes (creates, fork children, resumes) faster
    than its tier allows; retry after ``retry_after_s`` seconds. A kind of
    ``ConcurrencyLimitError``, so code that waits out a full cap waits this out too."""

    code = ErrorCode.RATE_LIMITED


class SandboxNotReadyError(_ServerError):
    """503 ``sandbox_not_ready``: the sandbox is still starting or restarting; retry shortly."""

    code = ErrorCode.SANDBOX_NOT_READY


class ExecTimeoutError(_ServerError):
    """504 ``exec_timeout``: a server-side operation ran out of time.

    An exec that passes its ``timeout_ms`` is not an error: it ends with exit code 124.
    """

    code = ErrorCode.EXEC_TIMEOUT


class NoSpaceError(_ServerError):
    """507 ``no_space``: the sandbox's disk is full; remove files or create it with a larger ``disk_mb``."""

    code = ErrorCode.NO_SPACE


class SandboxRuntimeError(_ServerError):
    """500 ``runtime_error``: the sandbox runtime failed (the guest died, a snapshot failed, ...)."""

    code = ErrorCode.RUNTIME_ERROR


class InternalError(_ServerError):
    """500 ``internal``: a bug in the server; the message is worth reporting."""

    code = ErrorCode.INTERNAL


class UnavailableError(_ServerError):
    """503 ``unavailable``: the server is starting, draining or out of capacity; retry later."""

    code = ErrorCode.UNAVAILABLE


class InvalidPortError(BadRequestError):
    """400 ``invalid_port``: a port proxy URL named a port that is not an integer from 1 to 65535."""

    code = ErrorCode.INVALID_PORT


class UpstreamError(_ServerError):
    """502 ``upstream_error``: the server inside the sandbox broke the connection or answered something that
    is not HTTP.
    """

    code = ErrorCode.UPSTREAM_ERROR


class PortNotListeningError(UpstreamError):
    """502 ``port_not_listening``: nothing listens on that port inside the sandbox; start a server bound to
    0.0.0.0 or 127.0.0.1.
    """

    code = ErrorCode.PORT_NOT_LISTENING


class UpstreamTimeoutError(_ServerError):
    """504 ``upstream_timeout``: the server inside the sandbox did not answer in time."""

    code = ErrorCode.UPSTREAM_TIMEOUT


class RegionUnknownError(BadRequestError):
    """400 ``region_unknown``: the server does not serve the ``region`` asked for; the
    message names the ones it does."""

    code = ErrorCode.REGION_UNKNOWN


class SandboxExpiredError(_ServerError):
    """410 ``sandbox_expired``: the sandbox reached its max_lifetime_s and was closed (or frozen
    to a Space when persistent); create a new one, or resume the Space."""

    code = ErrorCode.SANDBOX_EXPIRED


class SpaceLimitError(_ServerError):
    """429 ``space_limit``: the key holds as many Spaces as its tier allows; delete or resume one."""

    code = ErrorCode.SPACE_LIMIT


class SpaceStorageLimitError(_ServerError):
    """507 ``space_storage_limit``: the key's Spaces would take more disk than its tier allows; delete or
    resume some.
    """

    code = ErrorCode.SPACE_STORAGE_LIMIT


class SandboxAtProcessLimitError(_ServerError):
    """503 ``sandbox_at_process_limit``: the sandbox's processes use its whole pids limit; end them with
    ``kill_processes()``.
    """

    code = ErrorCode.SANDBOX_AT_PROCESS_LIMIT


class McpSessionLimitError(_ServerError):
    """429 ``mcp_session_limit``: too many open MCP sessions for this key or host; end one (HTTP DELETE /mcp)
    or wait for an idle one to time out.
    """

    code = ErrorCode.MCP_SESSION_LIMIT


class McpSessionNotFoundError(NotFoundError):
    """404 ``mcp_session_not_found``: the Mcp-Session-Id is unknown, ended or timed out; initialize a new MCP
    session.
    """

    code = ErrorCode.MCP_SESSION_NOT_FOUND


class ContextLimitError(_ServerError):
    """429 ``context_limit``: the sandbox has as many REPL contexts as allowed (32); delete one first."""

    code = ErrorCode.CONTEXT_LIMIT


class RegionUnavailableError(UnavailableError):
    """503 ``region_unavailable``: an edge cannot reach the region that holds this sandbox or
    Space; retry after ``Retry-After`` seconds (other regions are unaffected; docs/edge.md)."""

    code = ErrorCode.REGION_UNAVAILABLE

    def __init__(self, message: str, *, status: int | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message, status=status, headers=headers)
        #: Seconds to wait before retrying, from ``Retry-After`` (the edge's probe interval).
        self.retry_after_s = _parse_retry_after(self.headers.get("retry-after"))


class ProcessNotFoundError(NotFoundError):
    """404 ``process_not_found``: no process with that pid or tag was started through the API; see
    ``processes.list()``.
    """

    code = ErrorCode.PROCESS_NOT_FOUND


class ProcessLimitError(_ServerError):
    """429 ``process_limit``: the sandbox runs as many API-started processes as allowed; wait for or
    kill some.
    """

    code = ErrorCode.PROCESS_LIMIT


class WatchLimitError(_ServerError):
    """429 ``watch_limit``: the sandbox has as many open directory watches as allowed; stop one first."""

    code = ErrorCode.WATCH_LIMIT


class FileExistsError(ConflictError, builtins.FileExistsError):
    """409 ``file_exists``: mkdir of a path that exists."""

    code = ErrorCode.FILE_EXISTS


class DirectoryNotEmptyError(ConflictError):
    """409 ``directory_not_empty``: remove a non-empty directory without ``recursive=True``."""

    code = ErrorCode.DIRECTORY_NOT_EMPTY


class TooManyEntriesError(_ServerError):
    """413 ``too_many_entries``: a listing over the entry cap; list a subdirectory or a smaller
    depth.
    """

    code = ErrorCode.TOO_MANY_ENTRIES


class ExecQueueFullError(_ServerError):
    """429 ``exec_queue_full``: as many execs wait in the sandbox as allowed; wait for some to
    finish, or fork and run in parallel.
    """

    code = ErrorCode.EXEC_QUEUE_FULL


class RequestTimeoutError(_ServerError):
    """408 ``request_timeout``: the request's head did not arrive within the server's headers
    timeout; send it whole, at once."""

    code = ErrorCode.REQUEST_TIMEOUT


class HeadersTooLargeError(_ServerError):
    """431 ``headers_too_large``: the request's headers are over the server's limit; send fewer or
    shorter ones."""

    code = ErrorCode.HEADERS_TOO_LARGE


class NotARegularFileError(ConflictError):
    """409 ``not_a_regular_file``: a download of a device, FIFO or socket; copy what you need into
    a regular file.
    """

    code = ErrorCode.NOT_A_REGULAR_FILE


class TimeoutError(PodflareError, builtins.TimeoutError):
    """The server was silent for longer than the client's ``timeout_s``.

    Distinct from an exec passing its own ``timeout_ms`` (exit code 124) and from a sandbox
    expiring (404).
    """

    def __init__(self, message: str):
        PodflareError.__init__(self, ClientErrorCode.REQUEST_TIMEOUT, 0, message)


class ConnectionError(PodflareError, builtins.ConnectionError):
    """The server could not be reached, or the connection broke mid-answer."""

    def __init__(self, message: str):
        PodflareError.__init__(self, ClientErrorCode.CONNECTION_ERROR, 0, message)


class ProtocolError(PodflareError):
    """The server answered something this SDK cannot read (e.g. an exec stream without exit)."""

    def __init__(self, message: str, *, status: int = 0):
        PodflareError.__init__(self, ClientErrorCode.PROTOCOL_ERROR, status, message)


class SandboxClosedError(PodflareError):
    """The Sandbox object was closed (or merged away, or frozen); create or connect a new one."""

    def __init__(self, message: str):
        PodflareError.__init__(self, ClientErrorCode.SANDBOX_CLOSED, 0, message)


#: One class per server code.
ERROR_CLASSES: dict[str, type[_ServerError]] = {
    cls.code: cls
    for cls in (
        BadRequestError, InvalidJsonError, UnknownLanguageError, InvalidPathError,
        UnauthorizedError, ForbiddenError, NotFoundError, SandboxNotFoundError,
        TemplateNotFoundError, FileNotFoundError, SpaceNotFoundError, MethodNotAllowedError,
        ConflictError, IsADirectoryError, NotADirectoryError, PayloadTooLargeError,
        ConcurrencyLimitError, SandboxNotReadyError, ExecTimeoutError, NoSpaceError,
        SandboxRuntimeError, InternalError, UnavailableError, InvalidPortError,
        PortNotListeningError, UpstreamError, UpstreamTimeoutError, RegionUnknownError,
        SandboxExpiredError, SpaceLimitError, SpaceStorageLimitError,
        SandboxAtProcessLimitError, McpSessionLimitError, McpSessionNotFoundError,
        ContextLimitError,
        RegionUnavailableError,
        ProcessNotFoundError, ProcessLimitError, WatchLimitError, FileExistsError,
        DirectoryNotEmptyError, TooManyEntriesError, ExecQueueFullError, NotARegularFileError,
        RequestTimeoutError, HeadersTooLargeError, RateLimitedError,
    )
}
assert set(ERROR_CLASSES) == set(ERROR_STATUS), "every code needs a class"

# Answers without a code (the hosted service's 401, a proxy's 502, ...) map by status
# where the status names one meaning.
_CODE_FOR_STATUS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "request_timeout", 409: "conflict", 413: "payload_too_large",
    429: "concurrency_limit", 431: "headers_too_large", 500: "internal", 503: "unavailable",
    507: "no_space",
}

_HINTS = {
    "unauthorized": "pass api_key or set PODFLARE_API_KEY",
    "not_found": "this server may not provide this endpoint yet",
}


def _parse_retry_after(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(int(when.timestamp() - time.time() + 0.999)))


def _parse_body(body: Any) -> tuple[str | None, str | None, str | None, float | None]:
    """Returns (message, code, raw text, retry_after_s)."""
    value = body
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            return None, None, text.strip(), None
        if not isinstance(value, dict):
            return None, None, text.strip(), None
    if not isinstance(value, dict):
        return None, None, None, None
    message = value.get("error") if isinstance(value.get("error"), str) else value.get("message")
    code = value.get("code")
    retry = value.get("retry_after_s")
    return (
        message if isinstance(message, str) else None,
        code if isinstance(code, str) else None,
        None,
        float(retry) if isinstance(retry, (int, float)) and not isinstance(retry, bool) else None,
    )


def error_from_response(status: int, body: Any, headers: Mapping[str, str] | None = None,
                        context: str | None = None) -> PodflareError:
    """Turns an HTTP error answer into the matching exception.

    ``body`` may be bytes, text or parsed JSON. Unknown codes give a plain
    :class:`PodflareError` carrying the code and status; answers without a code map by
    status (401 becomes :class:`UnauthorizedError`).

    Example::

        err = error_from_response(404, b'{"error": "no sandbox", "code": "sandbox_not_found"}')
        assert isinstance(err, SandboxNotFoundError)
    """
    message, code, raw, retry_after_s = _parse_body(body)
    code_given = code
    hdrs = {str(k).lower(): str(v) for k, v in (headers.items() if headers is not None else ())}
    if code is None:
        code = _CODE_FOR_STATUS.get(status)
    text = message if message is not None else (raw[:500] if raw else f"HTTP {status}")
    hint = _HINTS.get(code or "")
    # "not_found" gets its hint only where no route matched: a missing context or key says what it is.
    route_missing = code_given is None or text.startswith("no route for ")
    if hint and hint not in text and (code != "not_found" or route_missing):
        text += f" ({hint})"
    if context and context not in text:
        text += f" [{context}]"
    # hostd's own failures are in its log under this id: the caller can quote it.
    request_id = hdrs.get("x-request-id")
    if status >= 500 and request_id and request_id not in text:
        text += f" (request {request_id})"
    if code is not None and code in ERROR_CLASSES:
        cls = ERROR_CLASSES[code]
        if cls is ConcurrencyLimitError:
            return ConcurrencyLimitError(text, status=status, headers=hdrs, retry_after_s=retry_after_s)
        return cls(text, status=status, headers=hdrs)
    return PodflareError(code or f"http_{status}", status, text, headers=hdrs)


__all__ = [
    "ErrorCode", "ClientErrorCode", "ERROR_STATUS", "ERROR_CLASSES", "PodflareError",
    "ProcessNotFoundError", "ProcessLimitError", "WatchLimitError", "FileExistsError",
    "DirectoryNotEmptyError", "TooManyEntriesError", "ExecQueueFullError", "NotARegularFileError",
    "RequestTimeoutError", "HeadersTooLargeError",
    "BadRequestError", "InvalidJsonError", "UnknownLanguageError", "InvalidPathError",
    "UnauthorizedError", "ForbiddenError", "NotFoundError", "SandboxNotFoundError",
    "TemplateNotFoundError", "FileNotFoundError", "SpaceNotFoundError", "MethodNotAllowedError",
    "ConflictError", "IsADirectoryError", "NotADirectoryError", "PayloadTooLargeError",
    "ConcurrencyLimitError", "SandboxNotReadyError", "ExecTimeoutError", "NoSpaceError",
    "SandboxRuntimeError", "InternalError", "UnavailableError", "InvalidPortError",
    "PortNotListeningError", "UpstreamError", "UpstreamTimeoutError", "TimeoutError",
    "ConnectionError", "ProtocolError", "SandboxClosedError", "error_from_response",
    "RegionUnknownError",
    "SandboxExpiredError", "SpaceLimitError", "SpaceStorageLimitError",
    "ContextLimitError",
    "RegionUnavailableError", "RateLimitedError",
]
