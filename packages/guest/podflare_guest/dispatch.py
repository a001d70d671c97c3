# Turns one frame from hostd into work: exec, fork and Space requests are queued for the
# main thread; interrupts, pings, reaps, context listings and file transfers are answered on
# the connection's own thread.

from . import errors, files, reaper
from .errors import GuestError
from .frames import FrameError
from .job import EXIT_USAGE, Job, say


def dispatch(kernel, conn, uploads, h, body):
    t = h["t"]
    req_id = field(h, "id", int)
    if t == "exec":
        lang = field(h, "lang", str)
        job = Job(conn, req_id, lang, field(h, "code", str), _env_field(h),
                  field(h, "cwd", str, optional=True), ctx=field(h, "ctx", str, optional=True))
        if lang not in ("python", "bash"):
            say(job, f"unknown lang {lang!r}: use python or bash")
            conn.send({"t": "exit", "id": req_id, "code": EXIT_USAGE})
            return
        kernel.enqueue(job)
    elif t == "fork":
        ids = h.get("children")
        open_files = h.get("files") or {}
        if (not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids)
                or not isinstance(open_files, dict)):
            raise FrameError("frame 'fork': children must be a non-empty list of ids")
        fresh = h.get("fresh") is True
        kernel.enqueue(Job(conn, req_id, "fork", "", None, None,
                           (ids, conn.take_fds(), open_files, fresh)))
    elif t in ("space_save", "space_load"):
        # Run on the main thread between execs, like an exec, so the heap is quiet.
        kernel.enqueue(Job(conn, req_id, t, field(h, "path", str), None, None))
    elif t in ("ctx_create", "ctx_restart", "ctx_delete"):
        # On the main thread between execs: a context's namespace is not changed under a cell.
        kernel.enqueue(Job(conn, req_id, t, field(h, "ctx", str), None,
                           field(h, "cwd", str, optional=True)))
    elif t == "ctx_list":
        conn.send({"t": "contexts", "id": req_id, "contexts": kernel.contexts.list()})
    elif t == "interrupt":
        kernel.interrupt(req_id)
    elif t == "ping":
        conn.send({"t": "pong", "id": req_id})
    elif t == "reap":
        # After hostd killed the sandbox's processes: free the pids our dead children hold.
        keep = kernel.pids_to_keep()
        conn.send({"t": "reaped", "id": req_id, "count": reaper.reap(keep)})
    elif t == "write_open":
        mode = field(h, "mode", int, optional=True)
        uploads.open_(conn, req_id, h.get("path"), 0o644 if mode is None else mode & 0o7777)
    elif t == "write_chunk":
        uploads.chunk(conn, req_id, body)
    elif t == "write_close":
        uploads.close(conn, req_id)
    elif t == "read":
        files.read(conn, req_id, h.get("path"), kernel.base_dir)
    elif t == "remove":
        files.remove(conn, req_id, h.get("path"), kernel.base_dir)
    else:
        files.send_error(conn, req_id, GuestError(errors.IO_ERROR, f"unknown frame type {t!r}"))


def field(h, name, kind, optional=False):
    value = h.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FrameError(f"frame {h.get('t')!r}: field {name!r} must be {kind.__name__}")
    return value


def _env_field(h):
    env = h.get("env")
    if env is None:
        return None
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise FrameError("frame 'exec': env must map strings to strings")
    return env
