"""What our two pid 1s (the family init and the sandbox init) share: they close what they
inherited and then only reap, forever."""

import os
import signal
import time


def quiet_fds(keep: int, program: int | None) -> None:
    """stdio on /dev/null, every other descriptor but `keep` and `program` closed."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != null:
            os.dup2(null, fd)
    if null > 2 and null not in (keep, program):
        os.close(null)
    close_fds_but(keep, program)


def close_fds_but(*keep) -> None:
    """Close every descriptor from 3 up except those in `keep` (None entries ignored)."""
    start = 3
    for fd in sorted(k for k in keep if k is not None and k >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 65536)


def reap_forever() -> None:
    while True:
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            pass
        except Exception:  # broad on purpose: pid 1 must not die
            pass
        try:
            signal.sigwaitinfo({signal.SIGCHLD})
        except Exception:  # broad on purpose: pid 1 must not die; retry after a pause
            time.sleep(1)
