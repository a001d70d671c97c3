# Entry point: accept host connections, each served by a worker thread made at start
# (workers.py); exec jobs run one at a time on the main thread, because fork must happen
# there and signals are delivered there.

import errno
import os
import queue
import select
import signal
import socket
import stat
import sys
import threading
import time

from . import errors, files, fork, landlock, mainthread, reaper, space, tcp_relay
from . import fs_ops, processes, watch
from .bash_runner import BashRunner
from .capture import Capture
from .conn import Connection
from .drain import Drainer
from .errors import GuestError, from_os_error
from .frames import GUEST_PROTOCOL_VERSION, FrameError
from .log import log, log_exception
from . import log as logmod
from .paths import resolve
from .repl import EXIT_INTERRUPTED, Repl, install_sigint
from .workers import Workers

LISTEN_FD_ENV = "PODFLARE_LISTEN_FD"
KERNEL_ONLY_ENV = "PODFLARE_KERNEL_ONLY_ENV"
KILL_AFTER_S = 1.0
FORK_REAP_S = 2.0
EXIT_USAGE = 2
EXIT_CANNOT_START = 127  # as a shell says when it cannot run a command


class Job:
    __slots__ = ("conn", "id", "lang", "code", "env", "cwd", "interrupted", "proc", "fork")

    def __init__(self, conn, job_id, lang, code, env, cwd, fork_req=None):
        self.conn = conn
        self.id = job_id
        self.lang = lang
        self.code = code
        self.env = env
        self.cwd = cwd
        self.interrupted = False  # set under Kernel.lock
        self.proc = None  # the bash process, once started
        self.fork = fork_req  # (child ids, descriptors, open files) of a fork request


class Kernel:
    def __init__(self, listener, base_dir, bash_cwd):
        self.listener = listener
        self.base_dir = base_dir
        self.bash_cwd = bash_cwd
        self.lock = threading.Lock()
        self.jobs = queue.SimpleQueue()
        self.queued = {}  # id -> Job not started yet
        self.current = None
        self.main_ident = threading.get_ident()
        self.capture = Capture()
        self.repl = Repl(self.capture)
        self.bash = BashRunner(Drainer())
        self.conns = set()  # live host connections (a fork child closes the parent's)
        self.fork_requests = queue.Queue()
        self.forked = set()  # pids of our fork children not reaped yet
        self.kills = queue.SimpleQueue()  # (monotonic deadline, bash proc) for _kill_loop
        self.workers = None  # started in serve_forever (a fork child makes its own)
        self.procs = processes.ProcessTable(self.bash.drainer, bash_cwd)
        install_sigint()

    def forget_channels(self):
        """In a fork child: close the parent's listener, host connections and output pipes
        (detached first, so no stale socket object closes a reused descriptor later)."""
        _close_quietly(self.listener.detach())
        for conn in list(self.conns):
            _close_quietly(conn.sock.detach())
            if conn.relay is not None:
                # Else the child's copy would keep the parent's proxied TCP connection open.
                _close_quietly(conn.relay.detach())
            for fd in conn.fds:
                _close_quietly(fd)
        self.capture.close_fds()
        self.procs.close_fds()

    def serve_forever(self):
        # Started before the main thread moves into its user domain: these threads stay in
        # the kernel domain (landlock.py).
        self.workers = Workers(self._serve)
        threading.Thread(target=self._accept_loop, name="podflare-accept", daemon=True).start()
        threading.Thread(target=self._fork_loop, name="podflare-forker", daemon=True).start()
        threading.Thread(target=self._kill_loop, name="podflare-killer", daemon=True).start()
        if landlock.available():
            try:
                landlock.restrict(kernel_domain=False)
            except OSError as e:
                log(f"landlock: cannot restrict: {e}")
        self.procs.spawner = processes.Spawner()  # in the user domain, as exec's processes
        while True:
            self._run_job(self.jobs.get())

    # -- main thread -------------------------------------------------------------------

    def _run_job(self, job):
        with self.lock:
            if self.queued.get(job.id) is job:
                del self.queued[job.id]
            cancelled = job.interrupted
            if not cancelled:
                self.current = job
        if not job.conn.alive:
            # Nobody can see the result or interrupt it any more.
            with self.lock:
                self.current = None
            for fd in job.fork[1] if job.fork is not None else ():
                _close_quietly(fd)
            return
        if job.fork is not None:
            self._run_fork(job)
            return
        if cancelled:
            job.conn.send({"t": "out", "id": job.id, "fd": 2}, b"KeyboardInterrupt\n")
            job.conn.send({"t": "exit", "id": job.id, "code": EXIT_INTERRUPTED})
            return
        # An exec always ends with `exit` (hostd's exec path waits for nothing else), so
        # problems that stop the code from running are told on stderr, as a shell would.
        try:
            code = self._execute(job)
        except KeyboardInterrupt:
            # on_sigint keeps interrupts out of kernel frames; this is only a backstop.
            log(f"exec {job.id}: interrupt reached the kernel")
            code = EXIT_INTERRUPTED
        except GuestError as e:
            _say(job, e.message)
            code = 1
        except Exception as e:
            if _out_of_processes(e):
                # A fork bomb or a process leak: say what the user can do about it.
                _say(job, "cannot start a process or thread: the sandbox reached its process limit "
                          "(pids); end its processes with kill_processes "
                          "(POST /v1/sandboxes/<id>/kill_processes)")
                code = EXIT_CANNOT_START
            else:
                log_exception(f"exec {job.id}")
                _say(job, "internal error in the guest kernel (see the kernel log)")
                code = 1
        finally:
            with self.lock:
                self.current = None
        job.conn.send({"t": "exit", "id": job.id, "code": code})

    def _fork_loop(self):
        while True:
            try:
                req = self.fork_requests.get(timeout=FORK_REAP_S)
            except queue.Empty:
                fork.reap(self)
                continue
            fork.reap(self)
            try:
                req["result"] = fork.fork_children(self, *req["args"])
            except BaseException as e:  # noqa: BLE001 - handed to the main thread
                req["error"] = e
            finally:
                req["done"].set()

    def _run_fork(self, job):
        ids, fds, open_files, fresh = job.fork
        try:
            # The forker thread forks (it is in the kernel domain, so the children are not
            # nested in our user domain); we wait, so the heap is quiet meanwhile.
            req = {"args": (ids, fds, open_files, fresh), "done": threading.Event()}
            self.fork_requests.put(req)
            req["done"].wait()
            if "error" in req:
                raise req["error"]
            pids, scoped = req["result"]
            job.conn.send({"t": "forked", "id": job.id, "pids": pids, "landlock": scoped})
        except GuestError as e:
            files.send_error(job.conn, job.id, e)
        except Exception as e:
            log_exception(f"fork {job.id}")
            files.send_error(job.conn, job.id, GuestError(errors.IO_ERROR, f"fork failed: {e}"))
        finally:
            for fd in fds:
                _close_quietly(fd)
            with self.lock:
                self.current = None

    def _execute(self, job):
        bad = _env_problem(job.env)
        if bad:
            _say(job, bad)
            return EXIT_USAGE
        if job.lang in ("space_save", "space_load"):
            op = space.save if job.lang == "space_save" else space.load
            job.conn.send({"t": "space", "id": job.id, **op(self.repl.globals, job.code)})
            return 0
        cwd = self._check_cwd(job.cwd) if job.cwd is not None else None
        if job.lang == "python":
            return self.repl.run(job, cwd)
        return self.bash.run(job, cwd or self.bash_cwd, lambda proc: self._bash_started(job, proc))

    def _check_cwd(self, path):
        full = resolve(path, self.base_dir)
        try:
            st = os.stat(full)
        except OSError as e:
            raise from_os_error(e, full, "cannot use cwd") from None
        if not stat.S_ISDIR(st.st_mode):
            raise GuestError(errors.NOT_A_DIRECTORY, f"cannot use cwd {full}: not a directory")
        return full

    # -- interrupts (connection threads) -----------------------------------------------

    def _interrupt(self, job_id):
        with self.lock:
            job = self.current
            if job is None or job.id != job_id:
                waiting = self.queued.get(job_id)
                if waiting is not None:
                    waiting.interrupted = True  # answered with 130 when its turn comes
                return
            job.interrupted = True
            if job.lang == "python":
                # To the main thread itself, so that a blocking call (sleep) returns EINTR.
                signal.pthread_kill(self.main_ident, signal.SIGINT)
            elif job.proc is not None and job.proc.returncode is None:
                # Once bash has exited, its group holds only the call's background children,
                # which outlive the call by design.
                self._terminate(job.proc)

    def _bash_started(self, job, proc):
        with self.lock:
            job.proc = proc
            if job.interrupted:
                self._terminate(proc)

    def _terminate(self, proc):
        _killpg(proc.pid, signal.SIGTERM)
        # A thread made at start does the SIGKILL: at the pids limit no timer thread can start.
        self.kills.put((time.monotonic() + KILL_AFTER_S, proc))

    def _kill_loop(self):
        while True:
            deadline, proc = self.kills.get()  # deadlines come in order: all wait KILL_AFTER_S
            time.sleep(max(0.0, deadline - time.monotonic()))
            if proc.returncode is None:  # set by the main thread once bash is reaped
                _killpg(proc.pid, signal.SIGKILL)

    # -- connections -------------------------------------------------------------------

    def _accept_loop(self):
        # An inherited listener may be non-blocking; its O_NONBLOCK flag is shared with the
        # parent's copy, so wait with select instead of changing it.
        nonblocking = not os.get_blocking(self.listener.fileno())
        while True:
            try:
                if nonblocking:
                    select.select([self.listener], [], [])
                sock, _ = self.listener.accept()
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.ECONNABORTED):
                    time.sleep(0.1)
                    continue
                log(f"accept failed, no longer accepting connections: {e}")
                return
            sock.setblocking(True)
            if not self.workers.hand(Connection(sock)):
                sock.close()  # hostd sees the close before hello and checks the pids limit

    def _serve(self, conn):
        uploads = files.Uploads(self.base_dir)
        with self.lock:
            self.conns.add(conn)
        try:
            conn.send({"t": "hello", "version": GUEST_PROTOCOL_VERSION, "pid": os.getpid(),
                       "python": "%d.%d.%d" % sys.version_info[:3]})
            while True:
                frame = conn.recv()
                if frame is None:
                    break
                if frame[0]["t"] == "tcp_connect":
                    # The connection becomes a byte relay for the port proxy; no more frames.
                    tcp_relay.serve(conn, _field(frame[0], "id", int), frame[0])
                    break
                self._dispatch(conn, uploads, *frame)
        except FrameError as e:
            log(f"dropping connection: {e}")
        except Exception:
            log_exception("connection")
        finally:
            uploads.abort_all()
            with self.lock:
                self.conns.discard(conn)
            conn.release()

    def _dispatch(self, conn, uploads, h, body):
        t = h["t"]
        req_id = _field(h, "id", int)
        if t == "exec":
            lang = _field(h, "lang", str)
            job = Job(conn, req_id, lang, _field(h, "code", str), _env_field(h),
                      _field(h, "cwd", str, optional=True))
            if lang not in ("python", "bash"):
                _say(job, f"unknown lang {lang!r}: use python or bash")
                conn.send({"t": "exit", "id": req_id, "code": EXIT_USAGE})
                return
            with self.lock:
                self.queued[req_id] = job
            self.jobs.put(job)
        elif t == "fork":
            ids = h.get("children")
            open_files = h.get("files") or {}
            if (not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids)
                    or not isinstance(open_files, dict)):
                raise FrameError("frame 'fork': children must be a non-empty list of ids")
            fresh = h.get("fresh") is True
            job = Job(conn, req_id, "fork", "", None, None, (ids, conn.take_fds(), open_files, fresh))
            with self.lock:
                self.queued[req_id] = job
            self.jobs.put(job)
        elif t in ("space_save", "space_load"):
            # Run on the main thread between execs, like an exec, so the heap is quiet.
            job = Job(conn, req_id, t, _field(h, "path", str), None, None)
            with self.lock:
                self.queued[req_id] = job
            self.jobs.put(job)
        elif t == "interrupt":
            self._interrupt(req_id)
        elif t == "ping":
            conn.send({"t": "pong", "id": req_id})
        elif t == "reap":
            # After hostd killed the sandbox's processes: free the pids our dead children hold.
            with self.lock:
                job = self.current
                keep = set(self.forked) | reaper.tracked_pids()
                if job is not None and job.proc is not None:
                    keep.add(job.proc.pid)  # the running bash call waits for its own
            conn.send({"t": "reaped", "id": req_id, "count": reaper.reap(keep)})
        elif t == "write_open":
            mode = _field(h, "mode", int, optional=True)
            uploads.open_(conn, req_id, h.get("path"), 0o644 if mode is None else mode & 0o7777)
        elif t == "write_chunk":
            uploads.chunk(conn, req_id, body)
        elif t == "write_close":
            uploads.close(conn, req_id)
        elif t == "read":
            files.read(conn, req_id, h.get("path"), self.base_dir)
        elif t == "remove":
            files.remove(conn, req_id, h.get("path"), self.base_dir)
        elif t in _PROC_FRAMES:
            _PROC_FRAMES[t](self.procs, conn, req_id, h, body, self.base_dir)
        elif t in _FS_FRAMES:
            _FS_FRAMES[t](conn, req_id, h, self.base_dir)
        else:
            files.send_error(conn, req_id, GuestError(errors.IO_ERROR, f"unknown frame type {t!r}"))


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


def _field(h, name, kind, optional=False):
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


def _env_problem(env):
    for k, v in (env or {}).items():
        if not k or "=" in k or "\0" in k:
            return f"invalid environment variable name {k!r}"
        if "\0" in v:
            return f"environment variable {k} contains a NUL byte"
    return None


def _out_of_processes(e):
    """The pids limit shows as EAGAIN from fork/clone, or as Python's "can't start new thread"."""
    if isinstance(e, OSError) and e.errno == errno.EAGAIN:
        return True
    return isinstance(e, RuntimeError) and "can't start new thread" in str(e)


def _say(job, message):
    job.conn.send({"t": "out", "id": job.id, "fd": 2},
                  f"podflare: {message}\n".encode("utf-8", "backslashreplace"))


def _close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _killpg(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except OSError:
        pass  # already gone


def _ensure_std_fds():
    # With 0/1/2 closed, our own pipes could land on them and be clobbered by dup2.
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            new = os.open(os.devnull, os.O_RDWR)
            if new != fd:
                os.dup2(new, fd)
                os.close(new)


def _listener(argv):
    listen_fd = os.environ.pop(LISTEN_FD_ENV, None)
    # Settings hostd meant for this process alone (glibc's huge-page heap): read at exec,
    # so user code and its subprocesses need not inherit them.
    for name in os.environ.pop(KERNEL_ONLY_ENV, "").split(","):
        os.environ.pop(name, None)
    opts = {"--listen": None, "--bash-cwd": None}
    i = 0
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            raise SystemExit(f"podflare guest: unknown argument {argv[i]!r}; "
                             "usage: [--listen SOCKET_PATH] [--bash-cwd DIR]")
    if opts["--listen"]:
        path = opts["--listen"]
        if os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(64)
        sock.setblocking(True)
    elif listen_fd is not None:
        fd = int(listen_fd)
        os.set_inheritable(fd, False)  # user subprocesses must not get the control socket
        sock = socket.socket(fileno=fd)
    else:
        raise SystemExit(f"podflare guest: set {LISTEN_FD_ENV} or pass --listen SOCKET_PATH")
    return sock, opts["--bash-cwd"]


def _clean_main_namespace():
    # The `python3 -c` launcher leaves its own names (sys, main) in __main__; the user's
    # globals start empty, as in a fresh interpreter.
    g = sys.modules["__main__"].__dict__
    for name in list(g):
        if not (name.startswith("__") and name.endswith("__")):
            del g[name]


def main(argv=None):
    _ensure_std_fds()
    listener, bash_cwd = _listener(sys.argv[1:] if argv is None else argv)
    logmod.init()
    sys.argv = [""]  # what user code sees in an interactive interpreter
    base_dir = os.getcwd()
    _clean_main_namespace()
    mainthread.note()  # for fork children (mainthread.py)
    if landlock.available():
        # The kernel domain, for the kernel's own threads (landlock.py).
        try:
            landlock.restrict()
        except OSError as e:
            log(f"landlock: cannot restrict: {e}")
    kernel = Kernel(listener, base_dir, os.path.abspath(bash_cwd) if bash_cwd else base_dir)
    kernel.serve_forever()
