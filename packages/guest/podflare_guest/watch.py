# Watching a directory for changes (GET /v1/sandboxes/:id/fs/watch): inotify through ctypes,
# one inotify instance per watch request, served on that request's connection thread until
# hostd hangs up. Events go out as `fs_event` frames: create, write, remove, rename, chmod.

import ctypes
import os
import select
import socket
import stat
import struct

from . import errors
from .errors import GuestError, from_os_error
from .paths import UPLOAD_TMP_PREFIX, resolve

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ISDIR = 0x40000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_MASK = (IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF
         | IN_MOVE_SELF)
_HEADER = struct.Struct("iIII")
# Directories a recursive watch follows at most (each costs one inotify watch).
MAX_DIRS = 1024

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret, what):
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return ret


class Watch:
    def __init__(self, root, recursive):
        self.root = root
        self.recursive = recursive
        self.fd = _check(_lib().inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1")
        self.dirs = {}  # watch descriptor -> directory
        # rename cookies of upload temporary files moved away: their IN_MOVED_TO is an upload
        self._upload_cookies = {}

    def add(self, d):
        if len(self.dirs) >= MAX_DIRS:
            return
        wd = _lib().inotify_add_watch(self.fd, os.fsencode(d), _MASK)
        if wd >= 0:
            self.dirs[wd] = d
        if self.recursive:
            try:
                with os.scandir(d) as it:
                    subdirs = [e.path for e in it if e.is_dir(follow_symlinks=False)]
            except OSError:
                return
            for sub in subdirs:
                self.add(sub)

    def read(self):
        """The events ready now, as (type, path, moved) triples: moved is "from" or "to" for
        the two ends of a move (both type rename), else None."""
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        out = []
        off = 0
        while off + _HEADER.size <= len(data):
            wd, mask, cookie, length = _HEADER.unpack_from(data, off)
            name = data[off + _HEADER.size:off + _HEADER.size + length].rstrip(b"\0")
            off += _HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                out.append(("overflow", self.root, None))
                continue
            d = self.dirs.get(wd)
            if d is None:
                continue
            if mask & IN_IGNORED:
                self.dirs.pop(wd, None)
                continue
            if name.startswith(UPLOAD_TMP_PREFIX):
                # An upload's temporary file (files.py): its renaming into place is the upload.
                if mask & IN_MOVED_FROM:
                    self._upload_cookies[cookie] = None
                    while len(self._upload_cookies) > 64:
                        self._upload_cookies.pop(next(iter(self._upload_cookies)))
                continue
            path = os.path.join(d, os.fsdecode(name)) if name else d
            kind = _kind(mask)
            if mask & IN_MOVED_TO and self._upload_cookies.pop(cookie, 1) is None:
                kind = "create"  # an uploaded file arriving, not a user's move
            if kind is None:
                continue
            if kind == "create" and mask & IN_ISDIR and self.recursive:
                self.add(path)
            moved = None
            if kind == "rename":
                moved = "to" if mask & IN_MOVED_TO else "from"  # IN_MOVE_SELF: the directory moved away
            out.append((kind, path, moved))
        return out

    def close(self):
        os.close(self.fd)


def _kind(mask):
    if mask & IN_CREATE:
        return "create"
    if mask & IN_MODIFY:
        return "write"
    if mask & (IN_DELETE | IN_DELETE_SELF):
        return "remove"
    if mask & (IN_MOVED_FROM | IN_MOVED_TO | IN_MOVE_SELF):
        return "rename"
    if mask & IN_ATTRIB:
        return "chmod"
    return None


def serve(conn, req_id, h, base):
    """Answers `fs_watch` with `fs_watching`, then events until hostd closes the connection
    (the connection carries nothing else)."""
    try:
        root = resolve(h.get("path"), base)
        try:
            st = os.stat(root)
        except OSError as e:
            raise from_os_error(e, root, "cannot watch") from None
        if not stat.S_ISDIR(st.st_mode):
            raise GuestError(errors.NOT_A_DIRECTORY, f"cannot watch {root}: not a directory")
        try:
            w = Watch(root, h.get("recursive") is True)
        except OSError as e:
            raise GuestError(errors.BUSY, f"cannot watch {root}: {e.strerror or e} "
                                          "(too many watches in the sandbox?)") from None
    except GuestError as e:
        conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})
        return
    try:
        w.add(root)
        if not conn.send({"t": "fs_watching", "id": req_id, "path": root}):
            return
        poller = select.poll()  # poll, not select: descriptors may be past FD_SETSIZE
        poller.register(w.fd, select.POLLIN)
        poller.register(conn.sock, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            if conn.sock.fileno() in ready and _closed(conn.sock):
                return
            if w.fd in ready:
                for kind, path, moved in w.read():
                    name = os.path.relpath(path, root)
                    event = {"t": "fs_event", "id": req_id, "type": kind, "path": path, "name": name}
                    if moved is not None:
                        event["moved"] = moved
                    if not conn.send(event):
                        return
    finally:
        w.close()


def _closed(sock):
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
