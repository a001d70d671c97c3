# The closed table of guest error codes (GuestErrorCode in frames.ts) and errno -> code.

import errno

NOT_FOUND = "not_found"
IS_A_DIRECTORY = "is_a_directory"
NOT_A_DIRECTORY = "not_a_directory"
NO_SPACE = "no_space"
PERMISSION_DENIED = "permission_denied"
INVALID_PATH = "invalid_path"
BUSY = "busy"
IO_ERROR = "io_error"
CONNECTION_REFUSED = "connection_refused"  # tcp_connect: nothing listens on the port
TIMED_OUT = "timed_out"  # tcp_connect: the connect did not complete in time

_BY_ERRNO = {
    errno.ENOENT: NOT_FOUND,
    errno.EISDIR: IS_A_DIRECTORY,
    errno.ENOTDIR: NOT_A_DIRECTORY,
    errno.ENOSPC: NO_SPACE,
    errno.EDQUOT: NO_SPACE,
    errno.EACCES: PERMISSION_DENIED,
    errno.EPERM: PERMISSION_DENIED,
    errno.EROFS: PERMISSION_DENIED,
    errno.EBUSY: BUSY,
    errno.ETXTBSY: BUSY,
    errno.ENAMETOOLONG: INVALID_PATH,
    errno.ELOOP: INVALID_PATH,
    errno.EINVAL: INVALID_PATH,
}


class GuestError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def from_os_error(e, path, doing):
    code = _BY_ERRNO.get(e.errno, IO_ERROR)
    reason = e.strerror or str(e)
    return GuestError(code, f"{doing} {path}: {reason}")


# Processes, filesystem and watch requests (processes.py, fs_ops.py, watch.py).
PROCESS_NOT_FOUND = "process_not_found"
PROCESS_LIMIT = "process_limit"
EXISTS = "exists"
NOT_EMPTY = "not_empty"
TOO_MANY_ENTRIES = "too_many_entries"
# File reads (files.py).
NOT_REGULAR = "not_regular"
TOO_LARGE = "too_large"
_BY_ERRNO[errno.EEXIST] = EXISTS
_BY_ERRNO[errno.ENOTEMPTY] = NOT_EMPTY
