"""The sandbox's seccomp filter: a hand-built classic BPF deny-list for x86_64.

Why each entry is here is written down in docs/security.md ("seccomp"). Anything not listed is
allowed: root inside the user namespace already lacks every capability that matters on the
host, so the filter's job is to shrink the kernel surface (module loading, bpf, keyrings,
mount API, new user namespaces, io_uring), not to enumerate what programs may do.
"""

import ctypes
import errno
import os

from linux import (CAP_NET_ADMIN, libc, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                   drop_capabilities, prctl, prctl_ptr)

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_NEWUSER = 0x10000000
# A process made with CLONE_PARENT is its caller's sibling: the child of whoever made the
# caller, outside the sandbox (a pooled sandbox's kernel is the warm pool's zygote's child), who
# never waits for it. Its zombie then held a pid against every sandbox's shared limit.
CLONE_PARENT = 0x00008000

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SYS_SECCOMP = 317

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
OFF_NR = 0
OFF_ARCH = 4
OFF_ARG0_LO = 16  # little endian: the low 32 bits of args[0]
OFF_ARG1_LO = 24  # the low 32 bits of args[1]: ioctl's request (an unsigned int to the kernel)

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
BPF_ALU_AND_K = 0x54

# x86_64 syscall numbers answered with EPERM.
DENY_EPERM = {
    "syslog": 103,
    "uselib": 134,
    "adjtimex": 159,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "pivot_root": 155,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
    "quotactl_fd": 443,
    "open_tree_attr": 467,
}

# ioctl requests answered with EPERM: btrfs calls that make or remove subvolumes or touch quotas.
# A subvolume made inside the sandbox's own gets a qgroup of its own, outside disk_mb
# (issue 20.2), and BTRFS_IOC_SUBVOL_CREATE needs only write access to the directory. The
# quota calls already need CAP_SYS_ADMIN on the host; they are listed so that no kernel change
# to that check can open the cap. Clone, dedupe, defrag and the read-only lookups stay allowed:
# they work within what the sandbox can open, and `cp --reflink` uses FICLONE (0x40049409).
SYS_IOCTL = 16
DENY_IOCTL_EPERM = {
    "BTRFS_IOC_SNAP_CREATE": 0x50009401,
    "BTRFS_IOC_SUBVOL_CREATE": 0x5000940E,
    "BTRFS_IOC_SNAP_DESTROY": 0x5000940F,
    "BTRFS_IOC_SNAP_CREATE_V2": 0x50009417,
    "BTRFS_IOC_SUBVOL_CREATE_V2": 0x50009418,
    "BTRFS_IOC_SUBVOL_SETFLAGS": 0x4008941A,
    "BTRFS_IOC_QUOTA_CTL": 0xC0109428,
    "BTRFS_IOC_QGROUP_ASSIGN": 0x40189429,
    "BTRFS_IOC_QGROUP_CREATE": 0x4010942A,
    "BTRFS_IOC_QGROUP_LIMIT": 0x8030942B,
    "BTRFS_IOC_QUOTA_RESCAN": 0x4040942C,
    "BTRFS_IOC_SNAP_DESTROY_V2": 0x5000943F,
}


# Answered by the disk view's supervisor (disk_view.py) when the filter has a listener.
NOTIFY = {"statfs": 137, "fstatfs": 138}

# Allowed unless the flags ask for a new user namespace or, for clone, the caller's parent
# (flags are args[0] for both; unshare refuses CLONE_PARENT itself, EINVAL).
SYS_CLONE = 56
SYS_UNSHARE = 272
# clone3 passes its flags in memory, out of a filter's reach: answer ENOSYS so that glibc
# falls back to clone(2), whose flags we can see.
SYS_CLONE3 = 435
# Linux AIO contexts come from one host-wide count (fs.aio-max-nr, 65,536), and one io_setup
# call can take all of it (outside tester, 2026-12-06): ENOSYS, as on a kernel without AIO,
# so that libaio users (databases, fio) fall back to threads.
SYS_IO_SETUP = 206
# Packet sockets: their receive rings (PACKET_RX_RING, up to 4 GB each) are kernel pages no
# memory cgroup is charged for; 8 rings held 2 GB of host memory for a 256 MB sandbox (outside
# tester tp). AF_PACKET, and the old (AF_INET, SOCK_PACKET) that the kernel makes one of, are
# refused; raw IP sockets (ping, traceroute) stay.
SYS_SOCKET = 41
AF_INET = 2
AF_PACKET = 17
SOCK_PACKET = 10
SOCK_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK and SOCK_CLOEXEC
OFF_ARG1_TYPE = OFF_ARG1_LO

# Taken from every sandbox process with the filter: CAP_NET_ADMIN let root inside queue packets
# without bound on its own interfaces (a tc qdisc on lo held 800 MB charged to no one, and
# outlived the sandbox with the namespace it kept alive; outside tester tp). hostd sets up the
# sandbox's network from outside; nothing inside needs to change it.
DROPPED_CAPABILITIES = (CAP_NET_ADMIN,)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def build_program(notify: bool = False):
    """The filter as a list of (code, jt, jf, k); jump targets are resolved from labels.
    With `notify`, statfs and fstatfs go to the filter's user-notification listener."""
    prog = []  # (code, jt_label_or_offset, jf_label_or_offset, k)

    def op(code, k, jt=0, jf=0):
        prog.append([code, jt, jf, k])

    op(BPF_LD_W_ABS, OFF_ARCH)
    op(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=0, jf="kill")
    op(BPF_LD_W_ABS, OFF_NR)
    op(BPF_JGE_K, X32_SYSCALL_BIT, jt="kill", jf=0)
    for nr in sorted(DENY_EPERM.values()):
        op(BPF_JEQ_K, nr, jt="eperm", jf=0)
    op(BPF_JEQ_K, SYS_IOCTL, jt="ioctl", jf=0)
    if notify:
        for nr in sorted(NOTIFY.values()):
            op(BPF_JEQ_K, nr, jt="notify", jf=0)
    op(BPF_JEQ_K, SYS_CLONE3, jt="enosys", jf=0)
    op(BPF_JEQ_K, SYS_IO_SETUP, jt="enosys", jf=0)
    op(BPF_JEQ_K, SYS_SOCKET, jt="socket", jf=0)
    op(BPF_JEQ_K, SYS_CLONE, jt="flags", jf=0)
    op(BPF_JEQ_K, SYS_UNSHARE, jt="flags", jf="allow")
    labels = {"flags": len(prog)}
    op(BPF_LD_W_ABS, OFF_ARG0_LO)
    op(BPF_JSET_K, CLONE_NEWUSER | CLONE_PARENT, jt="eperm", jf="allow")
    labels["socket"] = len(prog)
    op(BPF_LD_W_ABS, OFF_ARG0_LO)
    op(BPF_JEQ_K, AF_PACKET, jt="eperm", jf=0)
    op(BPF_JEQ_K, AF_INET, jt=0, jf="allow")
    op(BPF_LD_W_ABS, OFF_ARG1_TYPE)
    op(BPF_ALU_AND_K, SOCK_TYPE_MASK)
    op(BPF_JEQ_K, SOCK_PACKET, jt="eperm", jf="allow")
    labels["ioctl"] = len(prog)
    op(BPF_LD_W_ABS, OFF_ARG1_LO)
    for req in sorted(DENY_IOCTL_EPERM.values()):
        op(BPF_JEQ_K, req, jt="eperm", jf=0)
    labels["allow"] = len(prog)
    op(BPF_RET_K, SECCOMP_RET_ALLOW)
    labels["eperm"] = len(prog)
    op(BPF_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    labels["enosys"] = len(prog)
    op(BPF_RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)
    labels["kill"] = len(prog)
    op(BPF_RET_K, SECCOMP_RET_KILL_PROCESS)
    if notify:
        labels["notify"] = len(prog)
        op(BPF_RET_K, SECCOMP_RET_USER_NOTIF)

    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        def rel(t):
            if isinstance(t, int):
                return t
            off = labels[t] - i - 1
            assert 0 <= off < 256, "BPF jump out of range"
            return off
        out.append((code, rel(jt), rel(jf), k))
    return out


_filters = {}


def _compiled(notify: bool = False):
    """The filter as the kernel takes it, built once per process: the jail server builds it
    before forking, so each init and kernel it starts loads it without ~0.8 ms of Python."""
    if notify not in _filters:
        prog = build_program(notify)
        arr = (_SockFilter * len(prog))(*[_SockFilter(c, t, f, k) for c, t, f, k in prog])
        _filters[notify] = (arr, _SockFprog(len(prog), arr))
    return _filters[notify][1]


def install() -> None:
    """Drop DROPPED_CAPABILITIES, set no_new_privs and load the filter into the calling
    thread (all inherited across fork and exec)."""
    fprog = _compiled()
    drop_capabilities(DROPPED_CAPABILITIES)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl_ptr(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog))


def install_with_listener() -> int:
    """install(), with statfs and fstatfs sent to a new user-notification listener; returns
    its descriptor (close-on-exec), which the caller hands to the disk view's supervisor."""
    fprog = _compiled(True)
    drop_capabilities(DROPPED_CAPABILITIES)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    fd = libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                      ctypes.byref(fprog))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp listener: {os.strerror(err)}")
    return fd
