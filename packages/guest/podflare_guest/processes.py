# Background processes started through the API (POST /v1/sandboxes/:id/processes): they
# outlive the request that started them, keep a bounded ring of recent output that a late
# reader replays before live output, and take stdin, signals and (with a PTY) resizes.
# The kernel is their parent and reaps them; hostd reaches them only through these frames.

import collections
import fcntl
import os
import select
import selectors
import signal as signals
import socket
import struct
import subprocess
import termios
import threading
import time

from . import errors
from .errors import GuestError, from_os_error
from .log import log_exception
from .paths import resolve

_READ_BYTES = 64 * 1024
# After the process exits, read at most this many more times (background children may hold
# the pipes open forever); what is left goes to the drainer.
_TAIL_READS = 64
# How long a stdin write may wait for a process that does not read.
STDIN_WAIT_S = 5.0
# Exited entries kept for list/wait/connect beyond the running ones.
KEEP_EXITED = 64
# A reader waiting for output checks this often whether hostd hung up.
_HANGUP_CHECK_S = 0.5


class Spawner:
    """Starts user processes from a thread in the user Landlock domain (landlock.py): the
    connection threads that ask for them stay in the kernel domain, which user processes
    must never be in. Made by the main thread after it entered that domain."""

    def __init__(self):
        self._jobs = collections.deque()
        self._cond = threading.Condition()
        threading.Thread(target=self._run, name="podflare-spawner", daemon=True).start()

    def call(self, fn):
        box = {}
        done = threading.Event()
        with self._cond:
            self._jobs.append((fn, box, done))
            self._cond.notify()
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _run(self):
        while True:
            with self._cond:
                while not self._jobs:
                    self._cond.wait()
                fn, box, done = self._jobs.popleft()
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = e
            done.set()


class Ring:
    """Recent output as (seq, stream, bytes), at most `max_bytes` in all; oldest dropped first."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.chunks = collections.deque()
        self.bytes = 0
        self.next_seq = 0

    def add(self, stream, data):
        if len(data) > self.max_bytes:
            data = data[-self.max_bytes:]
        self.chunks.append((self.next_seq, stream, data))
        self.next_seq += 1
        self.bytes += len(data)
        while self.bytes > self.max_bytes:
            _, _, old = self.chunks.popleft()
            self.bytes -= len(old)

    def since(self, seq):
        return [c for c in self.chunks if c[0] >= seq]


class Proc:
    def __init__(self, popen, spec, ring_bytes, stdin_w, master):
        self.popen = popen
        self.pid = popen.pid
        self.spec = spec  # what list reports: cmd, args, cwd, tag, pty
        self.started_ms = int(time.time() * 1000)
        self.ring = Ring(ring_bytes)
        self.cond = threading.Condition()
        self.exit_code = None
        self.signal = None
        self.stdin_w = stdin_w
        self.master = master  # the PTY's master side, or None

    def info(self):
        return {"pid": self.pid, **self.spec, "running": self.exit_code is None,
                "exit_code": self.exit_code, "signal": self.signal, "started_ms": self.started_ms,
                "stdin": self.stdin_w is not None or self.master is not None}


class ProcessTable:
    def __init__(self, drainer, default_cwd):
        self.drainer = drainer
        self.default_cwd = default_cwd
        self.lock = threading.Lock()
        self.procs = {}  # pid -> Proc, in start order
        self.starting = 0  # starts between the cap check and the table entry
        self.starting_tags = set()
        self.spawner = None  # set by the kernel once its main thread is in the user domain

    # -- requests (connection threads) ---------------------------------------------------

    def start(self, conn, req_id, h, base):
        try:
            proc = self._start(h, base)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "proc_started", "id": req_id, "process": proc.info()})

    def list_(self, conn, req_id):
        with self.lock:
            infos = [p.info() for p in self.procs.values()]
        conn.send({"t": "proc_list", "id": req_id, "processes": infos})

    def info(self, conn, req_id, h):
        try:
            conn.send({"t": "proc_info", "id": req_id, "process": self._find(h).info()})
        except GuestError as e:
            _error(conn, req_id, e)

    def input(self, conn, req_id, h, data):
        try:
            proc = self._find(h)
            fd = proc.master if proc.master is not None else proc.stdin_w
            if fd is None:
                raise GuestError(errors.BUSY, f"process {proc.pid} has no open stdin (start it with stdin: true, "
                                              "or its stdin was closed)")
            _write_all(fd, data, proc.pid)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def close_stdin(self, conn, req_id, h):
        try:
            proc = self._find(h)
            if proc.master is not None:
                raise GuestError(errors.BUSY, f"process {proc.pid} runs on a PTY: send Ctrl-D (\\x04) as input instead")
            with self.lock:
                fd, proc.stdin_w = proc.stdin_w, None
            if fd is not None:
                os.close(fd)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def signal(self, conn, req_id, h):
        try:
            proc = self._find(h)
            sig = h.get("signal")
            if not isinstance(sig, int) or isinstance(sig, bool) or not 1 <= sig < signals.NSIG:
                raise GuestError(errors.IO_ERROR, f"signal must be a signal number, got {sig!r}")
            if proc.exit_code is None:
                # The process leads its own group (start_new_session): its children get it too.
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def resize(self, conn, req_id, h):
        try:
            proc = self._find(h)
            if proc.master is None:
                raise GuestError(errors.BUSY, f"process {proc.pid} has no PTY; only PTY processes can be resized")
            _set_size(proc.master, h.get("rows"), h.get("cols"))
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def connect(self, conn, req_id, h):
        """Streams the process's output: the ring first (unless only new output was asked
        for), then live output, then its exit. Blocks this connection's thread until the
        process has exited or hostd hangs up; a reader slower than the ring loses the oldest."""
        try:
            proc = self._find(h)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        if not conn.send({"t": "proc_info", "id": req_id, "process": proc.info()}):
            return
        with proc.cond:
            seq = proc.ring.next_seq if h.get("from") == "now" else 0
        while True:
            with proc.cond:
                chunks = proc.ring.since(seq)
                if not chunks and proc.exit_code is None:
                    proc.cond.wait(_HANGUP_CHECK_S)
                    chunks = proc.ring.since(seq)
                exited = proc.exit_code is not None and not proc.ring.since(seq + len(chunks))
                code, sig = proc.exit_code, proc.signal
            for s, stream, data in chunks:
                if not conn.send({"t": "proc_out", "id": req_id, "stream": stream}, data):
                    return
                seq = s + 1
            if exited and not chunks:
                conn.send({"t": "proc_exit", "id": req_id, "exit_code": code, "signal": sig})
                return
            if not chunks and _hung_up(conn):
                return

    def wait(self, conn, req_id, h):
        try:
            proc = self._find(h)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        while True:
            with proc.cond:
                if proc.exit_code is None:
                    proc.cond.wait(_HANGUP_CHECK_S)
                if proc.exit_code is not None:
                    break
            if _hung_up(conn):
                return
        conn.send({"t": "proc_info", "id": req_id, "process": proc.info()})

    def close_fds(self):
        """In a fork child: the parent's processes are not carried; drop their pipe ends so the
        parent's close_stdin still reaches EOF."""
        for proc in self.procs.values():
            for fd in (proc.stdin_w, proc.master):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        self.procs = {}

    # -- internals -----------------------------------------------------------------------

    def _find(self, h):
        pid, tag = h.get("pid"), h.get("tag")
        with self.lock:
            if isinstance(pid, int) and not isinstance(pid, bool) and pid in self.procs:
                return self.procs[pid]
            if isinstance(tag, str):
                for p in reversed(list(self.procs.values())):
                    if p.spec.get("tag") == tag:
                        return p
        what = f"pid {pid}" if pid is not None else f"tag {tag!r}"
        raise GuestError(errors.PROCESS_NOT_FOUND, f"no process with {what} was started through the API in this sandbox; "
                                            "list them with GET /v1/sandboxes/<id>/processes")

    def _start(self, h, base):
        cmd, args, max_running = h.get("cmd"), h.get("args"), h.get("max_running", 64)
        pty_size = h.get("pty")
        tag = h.get("tag")
        with self.lock:
            # Checked and reserved in one step: parallel starts cannot pass the cap together.
            running = self.starting + sum(1 for p in self.procs.values() if p.exit_code is None)
            if running >= max_running:
                raise GuestError(errors.PROCESS_LIMIT, f"{running} processes started through the API are running, the most "
                                                       f"a sandbox may have; wait for or kill some first (max {max_running})")
            if tag is not None and (tag in self.starting_tags or any(
                    p.spec.get("tag") == tag and p.exit_code is None for p in self.procs.values())):
                raise GuestError(errors.BUSY, f"a running process already has tag {tag!r}; pick another tag")
            self.starting += 1
            if tag is not None:
                self.starting_tags.add(tag)
        try:
            return self._spawn(h, base, cmd, args, tag, pty_size)
        finally:
            with self.lock:
                self.starting -= 1
                self.starting_tags.discard(tag)

    def _spawn(self, h, base, cmd, args, tag, pty_size):
        if args is None:
            argv = [_bash(), "-c", cmd]
        else:
            argv = [cmd, *args]
        cwd = resolve(h["cwd"], base) if h.get("cwd") else self.default_cwd
        env = dict(os.environ)
        if pty_size is not None:
            env["TERM"] = "xterm-256color"
        env.update(h.get("env") or {})
        spec = {"cmd": cmd, "args": args, "cwd": cwd, "tag": tag, "pty": pty_size is not None}
        ring_bytes = h.get("buffer_bytes", 256 * 1024)
        if pty_size is not None:
            proc = self._spawn_pty(argv, cwd, env, spec, ring_bytes, pty_size)
        else:
            proc = self._spawn_pipes(argv, cwd, env, spec, ring_bytes, h.get("stdin") is True)
        with self.lock:
            self.procs[proc.pid] = proc
            self._trim()
        return proc

    def _spawn_pipes(self, argv, cwd, env, spec, ring_bytes, with_stdin):
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r = in_w = None
        if with_stdin:
            in_r, in_w = os.pipe()
        try:
            popen = self._popen(argv, cwd, env, in_r if with_stdin else subprocess.DEVNULL, out_w, err_w)
        except GuestError:
            for fd in (out_r, err_r, in_w):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, in_r):
                if fd is not None:
                    os.close(fd)
        proc = Proc(popen, spec, ring_bytes, in_w, None)
        self._watch(proc, {out_r: "stdout", err_r: "stderr"})
        return proc

    def _spawn_pty(self, argv, cwd, env, spec, ring_bytes, size):
        import pty  # noqa: PLC0415 - only PTY processes need it
        master, slave = pty.openpty()
        os.set_inheritable(master, False)
        _set_size(master, size.get("rows"), size.get("cols"))
        try:
            popen = self._popen(argv, cwd, env, slave, slave, slave, ctty=True)
        except GuestError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        proc = Proc(popen, spec, ring_bytes, None, master)
        self._watch(proc, {os.dup(master): "pty"})
        return proc

    def _popen(self, argv, cwd, env, stdin, stdout, stderr, ctty=False):
        def spawn():
            return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, env=env,
                                    start_new_session=True, preexec_fn=_take_ctty if ctty else None)
        try:
            return self.spawner.call(spawn) if self.spawner is not None else spawn()
        except FileNotFoundError as e:
            raise GuestError(errors.NOT_FOUND, f"cannot start {argv[0]}: {e.strerror} (give the full path, or a "
                                               "shell command line without args)") from None
        except OSError as e:
            raise from_os_error(e, argv[0], "cannot start") from None

    def _watch(self, proc, fds):
        threading.Thread(target=self._pump, args=(proc, fds), name="podflare-proc", daemon=True).start()

    def _pump(self, proc, fds):
        try:
            self._pump_until_exit(proc, fds)
        except Exception:
            log_exception(f"process {proc.pid}")

    def _pump_until_exit(self, proc, fds):
        sel = selectors.DefaultSelector()
        for fd in fds:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        pidfd = None
        try:
            pidfd = os.pidfd_open(proc.pid)
            sel.register(pidfd, selectors.EVENT_READ)
        except (AttributeError, OSError):
            pass
        open_fds = set(fds)
        exited = False
        while not exited and open_fds:
            for key, _ in sel.select(None if pidfd is not None else 0.05):
                if key.fd == pidfd:
                    exited = True
                elif not self._read(proc, key.fd, fds[key.fd]):
                    sel.unregister(key.fd)
                    os.close(key.fd)
                    open_fds.discard(key.fd)
            if pidfd is None and proc.popen.poll() is not None:
                exited = True
        code = proc.popen.wait()
        for fd in list(open_fds):
            for _ in range(_TAIL_READS):
                more = self._read(proc, fd, fds[fd])
                if more is None:
                    break
                if more is False:
                    os.close(fd)
                    open_fds.discard(fd)
                    break
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        self.drainer.adopt(sorted(open_fds))
        with self.lock:
            for fd in (proc.stdin_w, proc.master):
                if fd is not None:
                    os.close(fd)
            proc.stdin_w = proc.master = None
        with proc.cond:
            if code < 0:
                proc.signal = signals.Signals(-code).name if -code in signals.valid_signals() else str(-code)
                proc.exit_code = 128 - code
            else:
                proc.exit_code = code
            proc.cond.notify_all()

    @staticmethod
    def _read(proc, fd, stream):
        """True if data came, False at EOF (or EIO: a PTY whose other side is gone), None if
        nothing is there now."""
        try:
            data = os.read(fd, _READ_BYTES)
        except BlockingIOError:
            return None
        except OSError:
            return False
        if not data:
            return False
        with proc.cond:
            proc.ring.add(stream, data)
            proc.cond.notify_all()
        return True

    def _trim(self):
        exited = [pid for pid, p in self.procs.items() if p.exit_code is not None]
        for pid in exited[:max(0, len(exited) - KEEP_EXITED)]:
            del self.procs[pid]

    def kill_all(self):
        with self.lock:
            procs = [p for p in self.procs.values() if p.exit_code is None]
        for p in procs:
            try:
                os.killpg(p.pid, signals.SIGKILL)
            except OSError:
                pass


def _error(conn, req_id, e):
    conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})


def _write_all(fd, data, pid):
    view = memoryview(data)
    deadline = time.monotonic() + STDIN_WAIT_S
    poller = select.poll()  # poll, not select: descriptors may be past FD_SETSIZE
    poller.register(fd, select.POLLOUT)
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            raise GuestError(errors.BUSY, f"process {pid} did not read its stdin for {STDIN_WAIT_S:g} s; "
                                          f"{len(view)} bytes were not sent")
        try:
            view = view[os.write(fd, view[:65536]):]
        except BlockingIOError:
            continue
        except OSError as e:
            raise GuestError(errors.BUSY, f"cannot write to the stdin of process {pid}: {e.strerror}") from None


def _set_size(fd, rows, cols):
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 1000:
            raise GuestError(errors.IO_ERROR, f"{name} must be an integer from 1 to 1000, got {v!r}")
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _take_ctty():
    # The new session's controlling terminal is the PTY (job control, Ctrl-C, SIGWINCH). Runs
    # in the child between fork and exec: no imports or locks here (other threads may hold them).
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _hung_up(conn):
    """Whether hostd closed this connection (it sends nothing more on a stream's connection)."""
    try:
        return conn.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _bash():
    from .bash_runner import _bash as find  # noqa: PLC0415
    return find()
