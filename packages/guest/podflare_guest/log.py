# Kernel diagnostics go to the stderr the kernel was started with (hostd's log), never to
# fds 1/2, which carry user output once capture starts.

import os
import sys

_fd = None


def init():
    global _fd
    try:
        _fd = os.dup(2)  # os.dup is non-inheritable: user subprocesses don't get it
    except OSError:
        _fd = None


def log(msg):
    if _fd is None:
        return
    try:
        os.write(_fd, f"podflare-guest[{os.getpid()}]: {msg}\n".encode("utf-8", "backslashreplace"))
    except OSError:
        pass


def log_exception(what):
    import traceback

    log(what + ": " + "".join(traceback.format_exception(*sys.exc_info())).rstrip())
