# Capabilities a sandbox's processes never hold (the jail drops them before any sandbox code
# runs: jail/seccomp.py, DROPPED_CAPABILITIES). A fork child joins its family's user namespace,
# and joining a user namespace gives every capability back, the bounding set included: the
# child takes them away again before it serves (outside tester tp, 2026-12-07: CAP_NET_ADMIN
# let root inside hold packets in a qdisc, charged to no one). The calls are those of the
# jail's linux.drop_capabilities: the guest is installed in templates, apart from the jail's
# helpers, and cannot import them.

import ctypes
import os

CAP_NET_ADMIN = 12
DROPPED = (CAP_NET_ADMIN,)
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(ret, what):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def drop():
    """Take DROPPED from the calling thread for good (bounding, effective, permitted,
    inheritable and ambient sets). Raises if the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    for cap in DROPPED:
        _check(libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), zero, zero, zero), "PR_CAPBSET_DROP")
    _check(libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), zero, zero, zero),
           "PR_CAP_AMBIENT")
    header = _Header(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    _check(libc.capget(ctypes.byref(header), data), "capget")
    for cap in DROPPED:
        word, bit = divmod(cap, 32)
        keep = ~(1 << bit) & 0xFFFFFFFF
        data[word].effective &= keep
        data[word].permitted &= keep
        data[word].inheritable &= keep
    _check(libc.capset(ctypes.byref(header), data), "capset")
