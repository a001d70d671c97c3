# The kernel: accepts host connections, each served by a worker thread made at start
# (workers.py); exec jobs run one at a time on the main thread, because fork must happen
# there and signals are delivered there.

import errno
import os
import queue
import select
import signal
import stat
import sys
import threading
import time

from . import errors, files, fork, landlock, reaper, space, tcp_relay
from . import processes
from .bash_runner import BashRunner
from .capture import Capture
from .contexts import Contexts
from .conn import Connection
from .dispatch import dispatch, field
from .drain import Drainer
from .errors import GuestError, from_os_error
from .frames import GUEST_PROTOCOL_VERSION, FrameError
from .job import EXIT_CANNOT_START, EXIT_USAGE, env_problem, out_of_processes, say
from .log import log, log_exception
from .paths import resolve
from .repl import EXIT_INTERRUPTED, Repl, install_sigint, interrupt_unseen, note_interrupt_sent
from .timers import Timers
from .workers import Workers

KILL_AFTER_S = 1.0
# A SIGINT that lands between CPython's last look for signals and a blocking system call is
# seen only when the call returns: time.sleep(30) slept on, and hostd killed the REPL with its
# state at the end of its grace (1 abort in 30 lost it). The signal is sent again after each of
# these delays until the main thread's handler has run.
RESIGNAL_AFTER_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
FORK_REAP_S = 2.0


class Kernel:
    def __init__(self, listener, base_dir, bash_cwd, contexts=None):
        self.listener = listener
        self.base_dir = base_dir
        self.bash_cwd = bash_cwd
        self.lock = threading.Lock()
        self.jobs = queue.SimpleQueue()
        self.queued = {}  # id -> Job not started yet
        self.current = None
        self.main_ident = threading.get_ident()
        self.capture = Capture()
        self.contexts = contexts or Contexts()
        self.repl = Repl(self.capture, self.contexts)
        self.bash = BashRunner(Drainer())
        self.conns = set()  # live host connections (a fork child closes the parent's)
        self.fork_requests = queue.Queue()
        self.forked = set()  # pids of our fork children not reaped yet
        # Set by a fresh fork: this kernel is a zygote, the parent of pooled sandboxes, and
        # runs no user code (fork.reap waits for every dead child of it).
        self.zygote = False
        self.timers = Timers()
        self.workers = None  # started in serve_forever (a fork child makes its own)
        self.procs = processes.ProcessTable(self.bash.drainer, bash_cwd)
        install_sigint()

    def make_child(self, listener):
        """The kernel of a fork child (fork.py calls this in the child, so that fork.py need
        not import this module)."""
        return Kernel(listener, self.base_dir, self.bash_cwd, self.contexts.for_fork_child())

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
        threading.Thread(target=self.timers.run, name="podflare-timers", daemon=True).start()
        if landlock.available():
            try:
                landlock.restrict(kernel_domain=False)
            except OSError as e:
                log(f"landlock: cannot restrict: {e}")
        self.procs.spawner = processes.Spawner()  # in the user domain, as exec's processes
        while True:
            self._run_job(self.jobs.get())

    # -- connection threads ------------------------------------------------------------

    def enqueue(self, job):
        with self.lock:
            self.queued[job.id] = job
        self.jobs.put(job)

    def pids_to_keep(self):
        """Pids a reap must leave alone: fork children, and the running bash call, which
        waits for its own."""
        with self.lock:
            keep = set(self.forked) | reaper.tracked_pids()
            job = self.current
            if job is not None and job.proc is not None:
                keep.add(job.proc.pid)
        return keep

    # -- main thread -------------------------------------------------------------------

    def _run_job(self, job):
        with self.lock:
            if self.queued.get(job.id) is job:
                del self.queued[job.id]
            cancelled = job.interrupted
            if not cancelled:
                self.current = job
                job.started = time.monotonic()
        if job.answered:
            return
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
        if job.lang.startswith("ctx_"):
            self._run_context(job)
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
            say(job, e.message)
            code = 1
        except Exception as e:
            if out_of_processes(e):
                # A fork bomb or a process leak: say what the user can do about it.
                say(job, "cannot start a process or thread: the sandbox reached its process limit "
                         "(pids); end its processes with kill_processes "
                         "(POST /v1/sandboxes/<id>/kill_processes)")
                code = EXIT_CANNOT_START
            else:
                log_exception(f"exec {job.id}")
                say(job, "internal error in the guest kernel (see the kernel log)")
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
            except BaseException as e:  # any failure is handed to the main thread
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

    def _run_context(self, job):
        try:
            if job.lang == "ctx_create":
                cwd = self._check_cwd(job.cwd) if job.cwd is not None else None
                ctx = self.contexts.create(job.code, cwd)
                job.conn.send({"t": "context", "id": job.id, "context": ctx.describe()})
            elif job.lang == "ctx_restart":
                ctx = self.contexts.restart(job.code)
                job.conn.send({"t": "context", "id": job.id, "context": ctx.describe()})
            else:
                self.contexts.delete(job.code)
                job.conn.send({"t": "done", "id": job.id})
        except GuestError as e:
            files.send_error(job.conn, job.id, e)
        finally:
            with self.lock:
                self.current = None

    def _execute(self, job):
        bad = env_problem(job.env)
        if bad:
            say(job, bad)
            return EXIT_USAGE
        if job.lang in ("space_save", "space_load"):
            op = space.save if job.lang == "space_save" else space.load
            try:
                manifest = op(self.repl.globals, job.code)
            except OSError as e:
                # A full disk is the user's to fix (507), not a kernel failure.
                files.send_error(job.conn, job.id, from_os_error(e, job.code, "cannot keep the REPL state"))
                return 1
            job.conn.send({"t": "space", "id": job.id, **manifest})
            return 0
        cwd = self._check_cwd(job.cwd) if job.cwd is not None else None
        ctx = self.contexts.get(job.ctx) if job.ctx is not None else None
        if job.lang == "python":
            return self.repl.run(job, cwd, ctx)
        if cwd is None and ctx is not None:
            cwd = ctx.cwd
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

    def interrupt(self, job_id):
        with self.lock:
            job = self.current
            if job is not None and job.id == job_id:
                self._stop_locked(job)
                return
            waiting = self.queued.get(job_id)
            if waiting is None:
                return
            waiting.interrupted = True
            if waiting.fork is not None:
                return  # answered when its turn comes
            # An exec that never started is told at once, not when its turn comes: the job
            # ahead may run on (one whose caller a hostd restart lost), and a timeout must not
            # look like an interrupt the REPL ignored.
            del self.queued[job_id]
            waiting.answered = True
        waiting.conn.send({"t": "out", "id": job_id, "fd": 2}, b"KeyboardInterrupt\n")
        waiting.conn.send({"t": "exit", "id": job_id, "code": EXIT_INTERRUPTED})

    def _interrupt_orphan(self, job):
        with self.lock:
            if self.current is not job:
                return
            log(f"exec {job.id}: its caller is gone and its timeout_ms passed: interrupted")
            self._stop_locked(job)

    def _stop_locked(self, job):
        """Interrupt the running job (self.lock held)."""
        job.interrupted = True
        if job.lang == "python":
            note_interrupt_sent()
            self._signal_main(job, 0)
        elif job.proc is not None and job.proc.returncode is None:
            # Once bash has exited, its group holds only the call's background children,
            # which outlive the call by design.
            self._terminate(job.proc)

    def _bash_started(self, job, proc):
        with self.lock:
            job.proc = proc
            if job.interrupted:
                self._terminate(proc)

    def _signal_main(self, job, sent):
        """SIGINT to the main thread itself, so that a blocking call (sleep) returns EINTR;
        again later while the handler has not run (RESIGNAL_AFTER_S). self.lock held."""
        signal.pthread_kill(self.main_ident, signal.SIGINT)
        if sent < len(RESIGNAL_AFTER_S):
            self.timers.at(time.monotonic() + RESIGNAL_AFTER_S[sent], lambda: self._resignal(job, sent + 1))

    def _resignal(self, job, sent):
        with self.lock:
            if self.current is job and interrupt_unseen():
                self._signal_main(job, sent)

    def _terminate(self, proc):
        _killpg(proc.pid, signal.SIGTERM)
        self.timers.at(time.monotonic() + KILL_AFTER_S, lambda: _kill_if_running(proc))

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
                    tcp_relay.serve(conn, field(frame[0], "id", int), frame[0])
                    break
                dispatch(self, conn, uploads, *frame)
        except FrameError as e:
            log(f"dropping connection: {e}")
        except Exception:
            log_exception("connection")
        finally:
            uploads.abort_all()
            with self.lock:
                self.conns.discard(conn)
                job = self.current
            if job is not None and job.conn is conn and job.timeout_s:
                # Its caller is gone: the kernel enforces the call's timeout_ms itself.
                self.timers.at(job.started + job.timeout_s, lambda: self._interrupt_orphan(job))
            conn.release()


def _kill_if_running(proc):
    if proc.returncode is None:  # set by the main thread once bash is reaped
        _killpg(proc.pid, signal.SIGKILL)


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
