# Landlock scoping for fork families: every kernel process lives in a Landlock domain of its
# own, so forked kernels (siblings in one family pid namespace) cannot signal or ptrace one
# another or each other's processes (LANDLOCK_SCOPE_SIGNAL; ptrace is always limited to a
# domain and the domains nested in it). Nothing about files is restricted.
#
# landlock_restrict_self() only moves the calling thread, and threads inherit the domain of
# the thread that starts them. A kernel uses two domains: its own threads (accept, capture,
# connections, the forker) stay in the kernel domain K; the main thread, which runs user code
# and starts every user process, moves into a domain nested in K. A fork child is forked from
# the forker thread, so it starts in K and moves into its own domain nested in K, beside the
# parent's user domain: neither side's user code or processes can reach the other's.

import ctypes
import errno
import os

SYS_CREATE_RULESET = 444
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
MIN_ABI = 6  # the first with scopes
MAX_LAYERS = 16  # the kernel's limit on stacked domains

_libc = None


class _Attr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def _syscall(*args):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    ret = _libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret


def abi():
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    try:
        return _syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    except OSError:
        return 0


def available():
    return abi() >= MIN_ABI


# Domains stacked on the kernel's own threads (the user domain adds one more).
layers = 0


def restrict(kernel_domain=True):
    """Put the calling thread in a new domain nested in its current one. False when Landlock
    cannot scope here. Raises OSError(E2BIG) when the layer limit is reached."""
    global layers
    if not available():
        return False
    attr = _Attr(0, 0, SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET)
    fd = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    try:
        _syscall(SYS_RESTRICT_SELF, fd, 0)
    finally:
        os.close(fd)
    if kernel_domain:
        layers += 1
    return True


def can_fork():
    """A child's user domain sits two layers above our kernel domain."""
    return layers + 2 <= MAX_LAYERS


__all__ = ["abi", "available", "restrict", "can_fork", "MAX_LAYERS", "errno"]
