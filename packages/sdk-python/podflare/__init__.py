"""Podflare Python SDK: sandboxes for AI agents, hosted or self-hosted (hostd).

Stdlib only. ``PODFLARE_HOSTD_URL`` picks the server (default http://127.0.0.1:7070) and
``PODFLARE_API_KEY`` the key.

Example::

    from podflare import Sandbox

    with Sandbox() as sb:
        sb.run_code("x = 41")
        print(sb.run_code("x += 1; print(x)").stdout)  # 42
"""

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
    error_from_response,
    SandboxExpiredError,
    SpaceLimitError,
    SpaceStorageLimitError,
)
from .errors import (
    DirectoryNotEmptyError,
    FileExistsError,
    ProcessLimitError,
    ProcessNotFoundError,
    TooManyEntriesError,
    WatchLimitError,
)
from .events import ExecEvent, ExecResult, NdjsonDecoder
from .filesystem import Filesystem, FsEntry, Watch, WatchEvent
from .processes import ProcessEvent, Processes, ProcessInfo
from .pty import Pty, Terminal
from .sandbox import FileEntry, Sandbox, upload_args

__version__ = SDK_VERSION

#: Exit codes hostd itself gives (the program's own codes pass through untouched).
EXIT_TIMEOUT = 124  # timeout_ms passed; the code was interrupted and the REPL kept its state
EXIT_KILLED = 137  # the REPL was killed (ignored the interrupt, or out of memory) and restarted empty
EXIT_EXPIRED = 125  # the sandbox reached max_lifetime_s: the code was interrupted, the sandbox closed or frozen

__all__ = [
    "Sandbox", "ExecEvent", "ExecResult", "FileEntry", "NdjsonDecoder", "upload_args",
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
    "ProcessNotFoundError", "ProcessLimitError", "WatchLimitError", "FileExistsError",
    "DirectoryNotEmptyError", "TooManyEntriesError",
    "Processes", "ProcessInfo", "ProcessEvent", "Filesystem", "FsEntry", "Watch", "WatchEvent",
    "Pty", "Terminal",
]
