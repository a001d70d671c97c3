# Filesystem requests for the host (/v1/sandboxes/:id/fs/...): stat, list, mkdir, move,
# remove. Paths follow the files API's rules (paths.resolve); the guest works inside the
# sandbox's own mount namespace, so no path, `..` or symlink can reach a host file.

import os
import stat

from . import errors
from .errors import GuestError, from_os_error
from .paths import resolve


def entry(full, name=None):
    """One entry as the API reports it; a symlink is described itself, with its target."""
    try:
        st = os.lstat(full)
    except OSError as e:
        raise from_os_error(e, full, "cannot stat") from None
    out = {
        "name": name if name is not None else (os.path.basename(full) or "/"),
        "path": full,
        "type": _type(st.st_mode),
        "size": st.st_size,
        "mode": stat.S_IMODE(st.st_mode),
        "permissions": stat.filemode(st.st_mode),
        "owner": _user(st.st_uid),
        "group": _group(st.st_gid),
        "mtime_ms": st.st_mtime_ns // 1_000_000,
        "symlink_target": None,
    }
    if stat.S_ISLNK(st.st_mode):
        try:
            out["symlink_target"] = os.readlink(full)
        except OSError:
            pass
    return out


def stat_(conn, req_id, h, base):
    _answer(conn, req_id, lambda: {"t": "fs_entry", "id": req_id,
                                   "entry": entry(resolve(h.get("path"), base))})


def list_(conn, req_id, h, base):
    def run():
        full = resolve(h.get("path"), base)
        depth = h.get("depth", 1)
        max_entries = h.get("max_entries", 10000)
        try:
            st = os.stat(full)
        except OSError as e:
            raise from_os_error(e, full, "cannot list") from None
        if not stat.S_ISDIR(st.st_mode):
            raise GuestError(errors.NOT_A_DIRECTORY, f"cannot list {full}: not a directory")
        out = []
        _walk(full, depth, out, max_entries, top=True)
        return {"t": "fs_entries", "id": req_id, "entries": out}
    _answer(conn, req_id, run)


def _walk(d, depth, out, max_entries, top=False):
    try:
        with os.scandir(d) as it:
            names = sorted(e.name for e in it)
    except OSError as e:
        if not top:
            return  # a subdirectory we may not read: list what we can
        raise from_os_error(e, d, "cannot list") from None
    for name in names:
        if len(out) >= max_entries:
            raise GuestError(errors.TOO_MANY_ENTRIES, f"{d} holds more than {max_entries} entries "
                                                      "(depth included); "
                                                      "list a subdirectory or a smaller depth")
        full = os.path.join(d, name)
        try:
            e = entry(full, name)
        except GuestError:
            continue  # removed while listing
        out.append(e)
        if depth > 1 and e["type"] == "dir":
            _walk(full, depth - 1, out, max_entries)


def mkdir(conn, req_id, h, base):
    def run():
        full = resolve(h.get("path"), base)
        try:
            if h.get("parents") is True:
                os.makedirs(full, exist_ok=False)
            else:
                os.mkdir(full)
        except FileExistsError:
            raise GuestError(errors.EXISTS, f"cannot create directory {full}: it exists") from None
        except OSError as e:
            raise from_os_error(e, full, "cannot create directory") from None
        return {"t": "fs_entry", "id": req_id, "entry": entry(full)}
    _answer(conn, req_id, run)


def move(conn, req_id, h, base):
    def run():
        src = resolve(h.get("path"), base)
        dst = resolve(h.get("to"), base)
        if src == "/" or dst == "/":
            raise GuestError(errors.INVALID_PATH, "cannot move / or onto /")
        try:
            os.rename(src, dst)
        except OSError as e:
            if e.errno != errors.errno.EXDEV:
                raise from_os_error(e, e.filename or src, "cannot move") from None
            # Across filesystems (/tmp and /dev/shm may be their own): copy, then remove.
            import shutil  # noqa: PLC0415
            try:
                shutil.move(src, dst)
            except OSError as e2:
                raise from_os_error(e2, e2.filename or src, "cannot move") from None
        return {"t": "fs_entry", "id": req_id, "entry": entry(dst)}
    _answer(conn, req_id, run)


def remove(conn, req_id, h, base):
    def run():
        full = resolve(h.get("path"), base)
        if full == "/":
            raise GuestError(errors.INVALID_PATH, "refusing to remove /")
        try:
            st = os.lstat(full)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(full)
            elif h.get("recursive") is True:
                import shutil  # noqa: PLC0415 - rare; kept out of kernel start
                shutil.rmtree(full)
            else:
                os.rmdir(full)
        except OSError as e:
            if e.errno == errors.errno.ENOTEMPTY:
                raise GuestError(errors.NOT_EMPTY, f"cannot remove {full}: the directory is not empty; pass "
                                                   "recursive: true to remove it with its contents") from None
            raise from_os_error(e, e.filename or full, "cannot remove") from None
        return {"t": "done", "id": req_id}
    _answer(conn, req_id, run)


def _answer(conn, req_id, run):
    try:
        header = run()
    except GuestError as e:
        conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})
        return
    try:
        conn.send(header)
    except ValueError:  # over the frame limit
        conn.send({"t": "error", "id": req_id, "code": errors.TOO_MANY_ENTRIES,
                   "message": "the listing does not fit in one frame; list a subdirectory or a smaller "
                              "depth"})


def _type(mode):
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def _user(uid):
    try:
        import pwd  # noqa: PLC0415
        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def _group(gid):
    try:
        import grp  # noqa: PLC0415
        return grp.getgrgid(gid).gr_name
    except (KeyError, ImportError):
        return str(gid)
