# File access for the host: atomic uploads, reads (file or directory listing), removal.
# Runs on the connection's own thread, so transfers never wait behind an exec.

import os
import stat

from . import errors
from .errors import GuestError, from_os_error
from .frames import FILE_CHUNK_BYTES
from .paths import UPLOAD_TMP_PREFIX, resolve

# Files that report size 0 (/proc, /sys) are read whole up to this many bytes.
_UNSIZED_MAX_BYTES = 16 * 1024 * 1024


def send_error(conn, req_id, e):
    conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})


# The temporary files of the uploads under way: a fork copies them half-written into its
# children's roots, where nothing would finish or remove them (fork.py removes them there).
_IN_FLIGHT = set()


def uploads_in_flight():
    """Paths of the temporary files of the uploads under way now."""
    return list(_IN_FLIGHT)


class _Upload:
    """One write_open..write_close: data goes to a temp file renamed over the target."""

    def __init__(self, path, mode):
        # Follow a symlink at the target (as `>` would) instead of replacing the link.
        self.path = os.path.realpath(path)
        self.fd = None
        self.tmp = None
        if os.path.isdir(self.path):
            raise GuestError(errors.IS_A_DIRECTORY, f"cannot write {path}: is a directory")
        parent = os.path.dirname(self.path)
        try:
            os.makedirs(parent, exist_ok=True)
        except FileExistsError:
            raise GuestError(errors.NOT_A_DIRECTORY,
                             f"cannot create parent of {path}: {parent} or a parent of it"
                             " is not a directory") from None
        except OSError as e:
            raise from_os_error(e, parent, "cannot create directory") from None
        tmp = os.path.join(parent, f"{UPLOAD_TMP_PREFIX.decode()}{os.urandom(8).hex()}.tmp")
        try:
            self.fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            self.tmp = tmp
            _IN_FLIGHT.add(tmp)
            os.fchmod(self.fd, mode)
        except OSError as e:
            self.abort()
            raise from_os_error(e, path, "cannot write") from None

    def write(self, data):
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as e:
            raise from_os_error(e, self.path, "cannot write") from None

    def commit(self):
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            os.replace(self.tmp, self.path)
            _IN_FLIGHT.discard(self.tmp)
            self.tmp = None
        except OSError as e:
            raise from_os_error(e, self.path, "cannot write") from None
        _fsync_dir(os.path.dirname(self.path))

    def abort(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            _IN_FLIGHT.discard(self.tmp)
            self.tmp = None


class Uploads:
    """The uploads of one connection. Answers once per id: done, or the first error."""

    def __init__(self, base):
        self.base = base
        self.open = {}
        self.failed = set()

    def open_(self, conn, req_id, path, mode):
        if req_id in self.open:
            send_error(conn, req_id, GuestError(errors.BUSY, f"write {req_id} is already open"))
            return
        self.failed.discard(req_id)
        try:
            self.open[req_id] = _Upload(resolve(path, self.base), mode)
        except GuestError as e:
            self._fail(conn, req_id, e)

    def chunk(self, conn, req_id, data):
        upload = self.open.get(req_id)
        if upload is None:
            return  # failed already (answered), or never opened (answered at close)
        try:
            upload.write(data)
        except GuestError as e:
            self._fail(conn, req_id, e)

    def close(self, conn, req_id):
        upload = self.open.pop(req_id, None)
        if upload is None:
            if req_id not in self.failed:
                send_error(conn, req_id, GuestError(errors.IO_ERROR, f"write {req_id} was never opened"))
            self.failed.discard(req_id)
            return
        try:
            upload.commit()
        except GuestError as e:
            upload.abort()
            send_error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def abort_all(self):
        for upload in self.open.values():
            upload.abort()
        self.open.clear()

    def _fail(self, conn, req_id, e):
        upload = self.open.pop(req_id, None)
        if upload is not None:
            upload.abort()
        self.failed.add(req_id)
        send_error(conn, req_id, e)


def read(conn, req_id, path, base):
    try:
        full = resolve(path, base)
        try:
            st = os.stat(full)
        except OSError as e:
            raise from_os_error(e, full, "cannot read") from None
        if stat.S_ISDIR(st.st_mode):
            _send_listing(conn, req_id, full)
        elif stat.S_ISREG(st.st_mode):
            _send_file(conn, req_id, full)
        else:
            raise _not_regular(full)
    except GuestError as e:
        send_error(conn, req_id, e)


def _send_listing(conn, req_id, full):
    entries = []
    try:
        with os.scandir(full) as it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed while listing
                entries.append({
                    "name": entry.name,
                    "type": _entry_type(st.st_mode),
                    "size": st.st_size,
                    "mode": stat.S_IMODE(st.st_mode),
                    "mtime_ms": st.st_mtime_ns // 1_000_000,
                })
    except OSError as e:
        raise from_os_error(e, full, "cannot list") from None
    entries.sort(key=lambda x: x["name"])
    try:
        conn.send({"t": "dir", "id": req_id, "entries": entries})
    except ValueError:
        # Too many to answer at once: a caller's mistake (413), as fs/list answers it.
        raise GuestError(errors.TOO_MANY_ENTRIES,
                         f"cannot list {full}: its {len(entries)} entries do not fit in one answer; "
                         "list a subdirectory, or read it from inside the sandbox (ls, find)") from None


def _entry_type(mode):
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def _send_file(conn, req_id, full):
    try:
        fd = os.open(full, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        raise from_os_error(e, full, "cannot read") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(full)
        mode = stat.S_IMODE(st.st_mode)
        if st.st_size == 0:
            _send_unsized(conn, req_id, full, fd, mode)
            return
        if not conn.send({"t": "file", "id": req_id, "kind": "file", "size": st.st_size, "mode": mode}):
            return
        # Send exactly the announced size, so the host can trust it as a content length.
        remaining = st.st_size
        while remaining:
            chunk = os.read(fd, min(FILE_CHUNK_BYTES, remaining))
            if not chunk:
                raise GuestError(errors.IO_ERROR, f"cannot read {full}: the file shrank while being read")
            remaining -= len(chunk)
            if not conn.send({"t": "data", "id": req_id}, chunk):
                return
        conn.send({"t": "done", "id": req_id})
    except OSError as e:
        raise from_os_error(e, full, "cannot read") from None
    finally:
        os.close(fd)


def _send_unsized(conn, req_id, full, fd, mode):
    # /proc and /sys files say size 0 whatever they hold: read first, then announce.
    parts = []
    total = 0
    while True:
        chunk = os.read(fd, FILE_CHUNK_BYTES)
        if not chunk:
            break
        total += len(chunk)
        if total > _UNSIZED_MAX_BYTES:
            raise GuestError(errors.TOO_LARGE,
                             f"cannot read {full}: it reports no size and holds more than"
                             f" {_UNSIZED_MAX_BYTES} bytes; copy the part you need into a regular"
                             " file (e.g. `head -c 1M FILE > /tmp/part`) and download that")
        parts.append(chunk)
    if not conn.send({"t": "file", "id": req_id, "kind": "file", "size": total, "mode": mode}):
        return
    for chunk in parts:
        if not conn.send({"t": "data", "id": req_id}, chunk):
            return
    conn.send({"t": "done", "id": req_id})


def _not_regular(full):
    # A device (/dev/zero), FIFO or socket has no end and no size: never streamed.
    return GuestError(errors.NOT_REGULAR,
                      f"cannot read {full}: not a regular file or directory (a device, FIFO or"
                      " socket); copy what you need into a regular file (e.g. `head -c 1M FILE >"
                      " /tmp/part`) and download that")


def remove(conn, req_id, path, base):
    try:
        full = resolve(path, base)
        if full == "/":
            raise GuestError(errors.INVALID_PATH, "refusing to remove /")
        try:
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                import shutil  # rare; kept out of kernel start (~5 ms with its imports)
                shutil.rmtree(full)
            else:
                os.unlink(full)
        except OSError as e:
            raise from_os_error(e, e.filename or full, "cannot remove") from None
    except GuestError as e:
        send_error(conn, req_id, e)
        return
    conn.send({"t": "done", "id": req_id})


def _fsync_dir(path):
    # Makes the rename durable; best effort, some filesystems refuse fsync on directories.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
