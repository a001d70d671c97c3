"""Podflare Python SDK: sandboxes for AI agents, hosted or self-hosted (hostd).

Stdlib only. ``PODFLARE_HOSTD_URL`` picks the server (default http://127.0.0.1:7070) and
``PODFLARE_API_KEY`` the key.

Example::

    from podflare import Sandbox

    with Sandbox() as sb:
        sb.run_code("x = 41")
        print(sb.run_code("x += 1; print(x)").stdout)  # 42
"""

# Exit codes hostd itself gives: EXIT_TIMEOUT (timeout_ms passed, the REPL kept its state),
# EXIT_KILLED (the REPL was killed and restarted empty), EXIT_EXPIRED (max_lifetime_s reached).
from ._protocol import EXIT_EXPIRED, EXIT_KILLED, EXIT_TIMEOUT
from .connection import DEFAULT_HOST, DEFAULT_TIMEOUT_S, SDK_VERSION
from .diff import DIFF_SNIPPET, compare_snapshots, diff_code
from .errors import (
    ERROR_CLASSES,
    ERROR_STATUS,
    BadRequestError,
    ClientErrorCode,
    ConcurrencyLimitError,
    ConflictError,
    ConnectionError,
    ErrorCode,
    ExecTimeoutError,
    FileNotFoundError,
    ForbiddenError,
    InternalError,
    InvalidJsonError,
    InvalidPathError,
    InvalidPortError,
    IsADirectoryError,
    MethodNotAllowedError,
    NoSpaceError,
    NotADirectoryError,
    NotFoundError,
    PayloadTooLargeError,
    PodflareError,
    PortNotListeningError,
    ProtocolError,
    SandboxClosedError,
    SandboxNotFoundError,
    SandboxNotReadyError,
    SandboxRuntimeError,
    SpaceNotFoundError,
    TemplateNotFoundError,
    TimeoutError,
    UnauthorizedError,
    UnavailableError,
    UnknownLanguageError,
    UpstreamError,
    UpstreamTimeoutError,
    RegionUnknownError,
    SandboxAtProcessLimitError,
    ContextLimitError,
    error_from_response,
    SandboxExpiredError,
    SpaceLimitError,
    SpaceStorageLimitError,
    McpSessionLimitError,
    McpSessionNotFoundError,
    RegionUnavailableError,
    RateLimitedError,
)
from .errors import (
    DirectoryNotEmptyError,
    ExecQueueFullError,
    FileExistsError,
    HeadersTooLargeError,
    NotARegularFileError,
    ProcessLimitError,
    ProcessNotFoundError,
    RequestTimeoutError,
    TooManyEntriesError,
    WatchLimitError,
)
from .client import Client
from .events import Event, ExecEvent, ExecResult, NdjsonDecoder
from .results import ExecError, Result
from .contexts import Context
from .filesystem import Filesystem, FsEntry, Watch, WatchEvent
from .processes import ProcessEvent, Processes, ProcessInfo
from .pty import Pty, PtyHandle, Terminal
from .sandbox import FileEntry, Sandbox, upload_args

__version__ = SDK_VERSION


__all__ = [
    "Sandbox", "Client", "Event", "ExecEvent", "ExecResult", "Result", "ExecError", "Context", "FileEntry",
    "NdjsonDecoder", "upload_args",
    "DIFF_SNIPPET", "diff_code", "compare_snapshots", "DEFAULT_HOST", "DEFAULT_TIMEOUT_S",
    "EXIT_TIMEOUT", "EXIT_KILLED", "ErrorCode", "ClientErrorCode", "ERROR_STATUS",
    "ERROR_CLASSES", "error_from_response", "PodflareError", "BadRequestError",
    "InvalidJsonError", "UnknownLanguageError", "InvalidPathError", "UnauthorizedError",
    "ForbiddenError", "NotFoundError", "SandboxNotFoundError", "TemplateNotFoundError",
    "FileNotFoundError", "SpaceNotFoundError", "MethodNotAllowedError", "ConflictError",
    "IsADirectoryError", "NotADirectoryError", "PayloadTooLargeError", "ConcurrencyLimitError",
    "SandboxNotReadyError", "ExecTimeoutError", "NoSpaceError", "SandboxRuntimeError",
    "InternalError", "UnavailableError", "TimeoutError", "ConnectionError", "ProtocolError",
    "SandboxClosedError", "InvalidPortError", "PortNotListeningError", "UpstreamError",
    "UpstreamTimeoutError", "RegionUnknownError", "EXIT_EXPIRED", "SandboxExpiredError",
    "SpaceLimitError", "SpaceStorageLimitError", "SandboxAtProcessLimitError",
    "McpSessionLimitError", "McpSessionNotFoundError",
    "ContextLimitError",
    "RegionUnavailableError", "RateLimitedError",
    "ProcessNotFoundError", "ProcessLimitError", "WatchLimitError", "FileExistsError",
    "DirectoryNotEmptyError", "TooManyEntriesError", "ExecQueueFullError", "NotARegularFileError",
    "RequestTimeoutError", "HeadersTooLargeError",
    "Processes", "ProcessInfo", "ProcessEvent", "Filesystem", "FsEntry", "Watch", "WatchEvent",
    "Pty", "PtyHandle", "Terminal",
]
