"""Thin ctypes wrappers for the Linux calls the jail needs (Python 3.11 has no os.unshare/setns).

Everything here raises OSError with the call's name on failure, so a jail error message says
which step refused.
"""

import ctypes
import os

libc = ctypes.CDLL("libc.so.6", use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_RELATIME = 0x200000
MNT_DETACH = 0x2

PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2

SYS_PIVOT_ROOT = 155
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 0x1
MOVE_MOUNT_F_EMPTY_PATH = 0x4

# statvfs f_flag bit -> mount flag. A remount inside a user namespace must repeat the flags
# the host mount had (they are locked), or the kernel answers EPERM.
_ST_TO_MS = (
    (os.ST_RDONLY, MS_RDONLY),
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(s):
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int, what: str = "setns") -> None:
    _check(libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), what)


def mount(source, target, fstype, flags: int, data=None) -> None:
    ret = libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
    _check(ret, f"mount {fstype or source or ''} on {target}")


def umount2(target, flags: int) -> None:
    _check(libc.umount2(_b(target), ctypes.c_int(flags)), f"umount2 {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    ret = libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), _b(new_root), _b(put_old))
    _check(ret, "pivot_root")


def open_tree_clone(path: str) -> int:
    """A detached recursive copy of the mount tree at path, as an fd (O_CLOEXEC)."""
    ret = libc.syscall(ctypes.c_long(SYS_OPEN_TREE), ctypes.c_int(AT_FDCWD), _b(path),
                       ctypes.c_uint(OPEN_TREE_CLONE | AT_RECURSIVE | os.O_CLOEXEC))
    return _check(ret, f"open_tree {path}")


def move_mount_fd(tree_fd: int, target: str) -> None:
    """Attach the detached tree tree_fd on top of target."""
    ret = libc.syscall(ctypes.c_long(SYS_MOVE_MOUNT), ctypes.c_int(tree_fd), b"",
                       ctypes.c_int(AT_FDCWD), _b(target), ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
    _check(ret, f"move_mount onto {target}")


def prctl(option: int, arg2: int = 0) -> None:
    ret = libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(0),
                     ctypes.c_ulong(0), ctypes.c_ulong(0))
    _check(ret, f"prctl({option})")


def prctl_ptr(option: int, arg2: int, ptr) -> None:
    ret = libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ptr,
                     ctypes.c_ulong(0), ctypes.c_ulong(0))
    _check(ret, f"prctl({option})")


PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAP_NET_ADMIN = 12


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities(caps) -> None:
    """Take `caps` from this process and all it will run: out of the bounding set (no execve
    gives them back, root's included) and out of the effective, permitted and inheritable
    sets; ambient capabilities cleared."""
    for cap in caps:
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    _check(libc.capget(ctypes.byref(header), data), "capget")
    for cap in caps:
        word, bit = divmod(cap, 32)
        keep = ~(1 << bit) & 0xFFFFFFFF
        data[word].effective &= keep
        data[word].permitted &= keep
        data[word].inheritable &= keep
    _check(libc.capset(ctypes.byref(header), data), "capset")


def set_name(name: str) -> None:
    """The task name (comm) that ps shows by default."""
    buf = ctypes.create_string_buffer(name.encode()[:15])
    _check(libc.prctl(ctypes.c_int(PR_SET_NAME), buf, ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)), "prctl(PR_SET_NAME)")


def mount_flags_of(path: str) -> int:
    """The mount flags of the mount that holds path, as MS_* bits."""
    f = os.statvfs(path).f_flag
    return sum(ms for st, ms in _ST_TO_MS if f & st)


def fd_path(fd: int) -> str:
    """A path naming exactly the object behind fd (the kernel follows the magic link)."""
    return f"/proc/self/fd/{fd}"


def become_root() -> None:
    """Drop host root's supplementary groups; become root of the user namespace we are in."""
    os.setgroups([])
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat: start time in clock ticks since boot (pid reuse guard)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[19])


def set_cmdline(title: str) -> None:
    """Overwrite this process's argv area, which /proc/PID/cmdline shows to anyone (the
    launcher's host path included)."""
    with open("/proc/self/stat", "rb") as f:
        data = f.read()
    rest = data[data.rindex(b")") + 2:].split()
    start, end = int(rest[45]), int(rest[46])  # fields 48, 49: arg_start, arg_end
    raw = title.encode()[: max(0, end - start - 1)]
    ctypes.memset(start, 0, end - start)
    ctypes.memmove(start, raw, len(raw))


# A sandbox's processes are the OOM killer's first choice; hostd and the jail server run at
# -1000 (issue 20.5). Raising needs no privilege, so this holds on every host.
SANDBOX_OOM_SCORE_ADJ = 500


def set_oom_score_adj(value: int) -> None:
    """Set this process's oom_score_adj, inherited by what it forks. Written by host root
    (CAP_SYS_RESOURCE), it also becomes the floor (oom_score_adj_min): a process without that
    capability, root of a user namespace included, cannot go below it. Without the capability
    the floor stays the one inherited from hostd: a sandbox can come down to hostd's value but
    not below it."""
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(value))
