# Background processes started through the API (POST /v1/sandboxes/:id/processes): they
# outlive the request that started them, keep a bounded ring of recent output that a late
# reader replays before live output, and take stdin, signals and (with a PTY) resizes.
# The kernel is their parent and reaps them; hostd reaches them only through these frames.

import os
import signal as signals
import socket
import threading

from . import errors
from .errors import GuestError
from .paths import resolve
from .proc_run import Spawner, set_size, spawn_pipes, spawn_pty, write_all

__all__ = ["ProcessTable", "Spawner"]

# Exited entries kept for list/wait/connect beyond the running ones.
KEEP_EXITED = 64
# A reader waiting for output checks this often whether hostd hung up.
_HANGUP_CHECK_S = 0.5


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
                raise GuestError(errors.BUSY, f"process {proc.pid} has no open stdin (start it with "
                                              "stdin: true, or its stdin was closed)")
            write_all(fd, data, proc.pid)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def close_stdin(self, conn, req_id, h):
        try:
            proc = self._find(h)
            if proc.master is not None:
                raise GuestError(errors.BUSY, f"process {proc.pid} runs on a PTY: send Ctrl-D (\\x04) "
                                              "as input instead")
            with proc.cond:
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
                raise GuestError(errors.BUSY, f"process {proc.pid} has no PTY; only PTY processes can "
                                              "be resized")
            set_size(proc.master, h.get("rows"), h.get("cols"))
        except GuestError as e:
            _error(conn, req_id, e)
            return
        conn.send({"t": "done", "id": req_id})

    def connect(self, conn, req_id, h):
        """Streams the process's output: the ring first (unless only new output was asked
        for), then live output, then its exit. Blocks this connection's thread until the
        process has exited or hostd hangs up. A reader that asked to hold the output (hold: true)
        slows the process while it is attached (proc_run.Proc.readers) and loses nothing; any
        other reader slower than the ring loses the oldest."""
        try:
            proc = self._find(h)
        except GuestError as e:
            _error(conn, req_id, e)
            return
        if not conn.send({"t": "proc_info", "id": req_id, "process": proc.info()}):
            return
        reader = object() if h.get("hold") else None
        with proc.cond:
            seq = proc.ring.next_seq if h.get("from") == "now" else 0
            if reader:
                proc.attach(reader, seq)
        try:
            self._stream(conn, req_id, proc, reader, seq)
        finally:
            if reader:
                with proc.cond:
                    del proc.readers[reader]
                    proc.cond.notify_all()

    def _stream(self, conn, req_id, proc, reader, seq):
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
            if chunks and reader:
                with proc.cond:
                    proc.readers[reader] = seq
                    proc.cond.notify_all()
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
        raise GuestError(errors.PROCESS_NOT_FOUND,
                         f"no process with {what} was started through the API in this sandbox; "
                         "list them with GET /v1/sandboxes/<id>/processes")

    def _start(self, h, base):
        cmd, args, max_running = h.get("cmd"), h.get("args"), h.get("max_running", 64)
        pty_size = h.get("pty")
        tag = h.get("tag")
        with self.lock:
            # Checked and reserved in one step: parallel starts cannot pass the cap together.
            running = self.starting + sum(1 for p in self.procs.values() if p.exit_code is None)
            if running >= max_running:
                raise GuestError(errors.PROCESS_LIMIT,
                                 f"{running} processes started through the API are running, the most a "
                                 f"sandbox may have; wait for or kill some first (max {max_running})")
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
        hold_s = h.get("hold_ms", 0) / 1000
        if pty_size is not None:
            proc = spawn_pty(self.spawner, self.drainer, argv, cwd, env, spec, ring_bytes, pty_size, hold_s)
        else:
            with_stdin = h.get("stdin") is True
            proc = spawn_pipes(self.spawner, self.drainer, argv, cwd, env, spec, ring_bytes, with_stdin,
                               hold_s)
        with self.lock:
            self.procs[proc.pid] = proc
            self._trim()
        return proc

    def _trim(self):
        exited = [pid for pid, p in self.procs.items() if p.exit_code is not None]
        for pid in exited[:max(0, len(exited) - KEEP_EXITED)]:
            del self.procs[pid]


def _error(conn, req_id, e):
    conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})


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
