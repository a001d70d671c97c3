"""A sandbox sees its own disk: statfs/fstatfs on its root filesystem answer with its disk cap
(the btrfs simple-quota limit of its root subvolume) and what it has used of it, instead of
the whole pool (docs/storage.md, "What a sandbox sees of its disk").

The sandbox's seccomp filter (seccomp.py) sends statfs and fstatfs to a supervisor through a
seccomp user notification listener. The jail server starts one supervisor (start()) and hands
it, over a socket pair, the listener of every process it enters into a sandbox (send_listener).
Fork children inherit their parent's filter, hence its listener: the supervisor finds the
sandbox from the calling process itself (its root directory), never from a table.

For each call the supervisor resolves the path (or descriptor) in the caller's view; if it is
on the caller's root subvolume and that subvolume has a limit, it writes a struct statfs whose
size is the limit and whose free space is the limit minus the subvolume's usage (never more
than the pool's own free space) into the caller's buffer. Anything else (/proc, /dev, tmpfs,
no limit, a path it cannot resolve) is left to the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
the answer is information for the sandbox itself, never a security decision.

The supervisor outlives the jail server (a restarted hostd re-adopts running sandboxes, whose
filters still point at it) and exits once the jail server is gone and no listener is left.
"""

import ctypes
import errno
import fcntl
import os
import select
import signal
import socket
import struct
import sys

import linux

SYS_STATFS = 137
SYS_FSTATFS = 138
SYS_OPENAT2 = 437

# <linux/seccomp.h>: struct seccomp_notif is 80 bytes, struct seccomp_notif_resp 24.
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101
NOTIF_ID_VALID = 0x40082102
FLAG_CONTINUE = 1

BTRFS_IOC_INO_LOOKUP = 0xD0009412
BTRFS_IOC_FS_INFO = 0x8400941F
BTRFS_FIRST_FREE_OBJECTID = 256
BTRFS_SUPER_MAGIC = 0x9123683E
U64_MAX = (1 << 64) - 1

RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
PATH_MAX = 4096
STATFS = struct.Struct("=qqQQQQQiiqqq32x")  # struct statfs on x86_64, 120 bytes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_client_fd = -1  # the jail server's end of the socket pair, inherited by its request children


def start() -> None:
    """In the jail server, before it serves: fork the supervisor (its own session, stdio on
    /dev/null, so it holds nothing of hostd's) and keep our end for send_listener()."""
    global _client_fd
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            ours.close()
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            keep = theirs.fileno()
            os.closerange(3, keep)
            os.closerange(keep + 1, 65536)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            linux.set_cmdline("podflare-disk-view")
            linux.set_name("podflare-disk-view")
            serve(theirs)
        finally:
            os._exit(0)
    theirs.close()
    _client_fd = ours.detach()


def close_client() -> None:
    """In a request child that enters no sandbox: let go of the supervisor's socket."""
    global _client_fd
    if _client_fd >= 0:
        os.close(_client_fd)
        _client_fd = -1


def client_fd() -> int:
    return _client_fd


def send_listener(sock_fd: int, listener: int) -> None:
    """Hand a seccomp listener to the supervisor (called before exec, then both are closed)."""
    with socket.socket(fileno=os.dup(sock_fd)) as s:
        s.sendmsg([b"L"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", listener))])


# --- the supervisor ---------------------------------------------------------------------------


def serve(ctl: socket.socket) -> None:
    """Answer notifications until the jail server is gone and no listener is left."""
    ep = select.epoll()
    ep.register(ctl.fileno(), select.EPOLLIN)
    listeners = set()
    ctl_open = True
    while ctl_open or listeners:
        for fd, ev in ep.poll():
            if fd == ctl.fileno():
                if not _take_listener(ctl, ep, listeners):
                    ep.unregister(fd)
                    ctl_open = False
                continue
            if ev & select.EPOLLIN:
                try:
                    handle(fd)
                except Exception:  # the caller died or went away: its notification is void
                    pass
            elif ev & (select.EPOLLHUP | select.EPOLLERR):
                # No process uses this filter any more.
                ep.unregister(fd)
                os.close(fd)
                listeners.discard(fd)


def _take_listener(ctl: socket.socket, ep, listeners: set) -> bool:
    try:
        data, anc, _, _ = ctl.recvmsg(16, socket.CMSG_SPACE(4 * 8))
    except OSError:
        return True
    if not data:
        return False
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for (fd,) in struct.iter_unpack("i", raw[: len(raw) - len(raw) % 4]):
                ep.register(fd, select.EPOLLIN)
                listeners.add(fd)
    return True


def handle(listener: int) -> None:
    notif = bytearray(80)
    fcntl.ioctl(listener, NOTIF_RECV, notif)
    nid, pid = struct.unpack_from("=QI", notif, 0)
    nr = struct.unpack_from("=i", notif, 16)[0]
    arg0, arg1 = struct.unpack_from("=QQ", notif, 32)
    try:
        answer = own_statfs(pid, nr, arg0)
    except Exception:  # whatever went wrong, the caller must get an answer
        answer = None
    if answer is None:
        _respond(listener, nid, 0, 0, FLAG_CONTINUE)
        return
    try:
        mem = os.open(f"/proc/{pid}/mem", os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        _respond(listener, nid, 0, 0, FLAG_CONTINUE)
        return
    try:
        # The pid is the caller's only while its notification is pending.
        fcntl.ioctl(listener, NOTIF_ID_VALID, struct.pack("=Q", nid))
        try:
            os.pwrite(mem, answer, arg1)
        except OSError:
            _respond(listener, nid, 0, -errno.EFAULT, 0)
            return
    finally:
        os.close(mem)
    _respond(listener, nid, 0, 0, 0)


def _respond(listener: int, nid: int, val: int, error: int, flags: int) -> None:
    fcntl.ioctl(listener, NOTIF_SEND, bytearray(struct.pack("=QqiI", nid, val, error, flags)))


def own_statfs(pid: int, nr: int, arg0: int):
    """The struct statfs to answer with, or None to let the kernel answer."""
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        target = _open_target(pid, nr, arg0, root)
        if target is None:
            return None
        try:
            if os.fstat(target).st_dev != os.fstat(root).st_dev:
                return None  # another filesystem or subvolume: /proc, /dev, a tmpfs, ...
            real = _fstatfs(target)
        finally:
            os.close(target)
        if STATFS.unpack(real)[0] != BTRFS_SUPER_MAGIC:
            return None
        quota = _quota(root)
    finally:
        os.close(root)
    if quota is None:
        return None
    limit, used = quota
    f = list(STATFS.unpack(real))
    bsize = f[1] or 4096
    free = max(0, limit - used) // bsize
    f[2] = limit // bsize
    f[3] = min(free, f[3])  # never more than the pool itself has left
    f[4] = min(free, f[4])
    return STATFS.pack(*f)


def _open_target(pid: int, nr: int, arg0: int, root: int):
    """An O_PATH descriptor of what the caller asked about, resolved in its own view."""
    if nr == SYS_FSTATFS:
        if arg0 >= 1 << 31:
            return None
        return os.open(f"/proc/{pid}/fd/{arg0}", os.O_PATH | os.O_CLOEXEC)
    if nr != SYS_STATFS:
        return None
    raw = b""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        # Page by page: a short path may end just before an unmapped page.
        while b"\0" not in raw and len(raw) < PATH_MAX:
            want = 4096 - (arg0 + len(raw)) % 4096
            try:
                chunk = os.pread(mem.fileno(), want, arg0 + len(raw))
            except OSError:
                return None
            if not chunk:
                return None
            raw += chunk
    end = raw.find(b"\0")
    if end <= 0:
        return None  # empty or unterminated: the kernel gives the right error
    path = raw[:end]
    if path.startswith(b"/"):
        return _openat2(root, path)
    cwd = os.open(f"/proc/{pid}/cwd", os.O_PATH | os.O_CLOEXEC)
    try:
        return _openat2(cwd, path)
    finally:
        os.close(cwd)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def _openat2(dirfd: int, path: bytes):
    """Absolute symlinks and ".." stay inside dirfd, as they would in the caller's root."""
    how = _OpenHow(os.O_PATH | os.O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    fd = _libc.syscall(SYS_OPENAT2, dirfd, ctypes.c_char_p(path), ctypes.byref(how),
                       ctypes.sizeof(how))
    return fd if fd >= 0 else None


def _fstatfs(fd: int) -> bytes:
    buf = ctypes.create_string_buffer(STATFS.size)
    if _libc.fstatfs(fd, buf) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return buf.raw


def _quota(root: int):
    """(limit, used) in bytes of the simple-quota group of the subvolume `root` is in, or None
    when it has no limit."""
    args = bytearray(struct.pack("=QQ4080x", 0, BTRFS_FIRST_FREE_OBJECTID))
    fcntl.ioctl(root, BTRFS_IOC_INO_LOOKUP, args)
    subvol = struct.unpack_from("=Q", args, 0)[0]
    info = bytearray(1024)
    fcntl.ioctl(root, BTRFS_IOC_FS_INFO, info)
    fsid = info[16:32].hex()
    uuid = f"{fsid[:8]}-{fsid[8:12]}-{fsid[12:16]}-{fsid[16:20]}-{fsid[20:]}"
    base = f"/sys/fs/btrfs/{uuid}/qgroups/0_{subvol}/"
    try:
        limit = _read_int(base + "max_exclusive")
        used = _read_int(base + "exclusive") + _read_int(base + "rsv_data")
    except (OSError, ValueError):
        return None
    if limit in (0, U64_MAX):
        return None
    return limit, used


def _read_int(path: str) -> int:
    with open(path, "rb", buffering=0) as f:
        return int(f.read())


if __name__ == "__main__":
    sys.exit("disk_view is started by the jail server (server.py)")
