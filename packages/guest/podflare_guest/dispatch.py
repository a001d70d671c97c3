# Turns one frame from hostd into work: exec, fork and Space requests are queued for the
# main thread; interrupts, pings, reaps, context listings and file transfers are answered on
# the connection's own thread.

from . import errors, files, fs_ops, reaper, watch
from .errors import GuestError
from .frames import FrameError
from .job import EXIT_USAGE, Job, say


def dispatch(kernel, conn, uploads, h, body):
    t = h["t"]
    req_id = field(h, "id", int)
    if t == "exec":
        lang = field(h, "lang", str)
        timeout_ms = field(h, "timeout_ms", int, optional=True)
        job = Job(conn, req_id, lang, field(h, "code", str), _env_field(h),
                  field(h, "cwd", str, optional=True), ctx=field(h, "ctx", str, optional=True),
                  timeout_s=None if timeout_ms is None else timeout_ms / 1000,
                  results=h.get("results") is not False)
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
    elif t in _PROC_FRAMES:
        _PROC_FRAMES[t](kernel.procs, conn, req_id, h, body, kernel.base_dir)
    elif t in _FS_FRAMES:
        _FS_FRAMES[t](conn, req_id, h, kernel.base_dir)
    else:
        files.send_error(conn, req_id, GuestError(errors.IO_ERROR, f"unknown frame type {t!r}"))


# Processes, PTYs and the filesystem API (processes.py, fs_ops.py, watch.py), each answered on
# the connection's own thread (connect, wait and watch keep it until done or hung up).
_PROC_FRAMES = {
    "proc_start": lambda p, conn, i, h, body, base: p.start(conn, i, h, base),
    "proc_list": lambda p, conn, i, h, body, base: p.list_(conn, i),
    "proc_info": lambda p, conn, i, h, body, base: p.info(conn, i, h),
    "proc_input": lambda p, conn, i, h, body, base: p.input(conn, i, h, body),
    "proc_close_stdin": lambda p, conn, i, h, body, base: p.close_stdin(conn, i, h),
    "proc_signal": lambda p, conn, i, h, body, base: p.signal(conn, i, h),
    "proc_resize": lambda p, conn, i, h, body, base: p.resize(conn, i, h),
    "proc_connect": lambda p, conn, i, h, body, base: p.connect(conn, i, h),
    "proc_wait": lambda p, conn, i, h, body, base: p.wait(conn, i, h),
}
_FS_FRAMES = {
    "fs_stat": fs_ops.stat_, "fs_list": fs_ops.list_, "fs_mkdir": fs_ops.mkdir,
    "fs_move": fs_ops.move, "fs_remove": fs_ops.remove, "fs_watch": watch.serve,
}


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
