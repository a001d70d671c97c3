# One process started through the API: how it is started (pipes or a PTY, from the user
# Landlock domain) and how its output is collected into its bounded ring until it exits.

import collections
import fcntl
import os
import select
import selectors
import signal as signals
import struct
import subprocess
import termios
import threading
import time

from . import errors
from .errors import GuestError, from_os_error
from .log import log_exception

_READ_BYTES = 64 * 1024
# After the process exits, read at most this many more times (background children may hold
# the pipes open forever); what is left goes to the drainer.
_TAIL_READS = 64
# After a PTY process exited, how long a read that found nothing waits for output still on its way.
_PTY_TAIL_WAIT_S = 0.1
# A pump held back by a slow reader re-checks this often (readers notify when they move).
_READER_WAIT_S = 0.5
# How long a stdin write may wait for a process that does not read.
STDIN_WAIT_S = 5.0


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

    def would_drop_unread(self, n, first_unread):
        """Adding n bytes (at most max_bytes) would push out a chunk a reader has not had
        (seq >= first_unread): every chunk the add evicts is looked at, not just the oldest."""
        over = self.bytes + n - self.max_bytes
        for seq, _, data in self.chunks:
            if over <= 0:
                return False
            if seq >= first_unread:
                return True
            over -= len(data)
        return False


# Stands for the first reader of a process started with hold_s, until it attaches.
FIRST_READER = object()


class Proc:
    def __init__(self, popen, spec, ring_bytes, stdin_w, master, hold_s=0):
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
        # Attached readers (connect) -> the next seq each wants. While one is behind, output
        # waits for it (the process blocks on its full pipe) instead of pushing unread
        # chunks out of the ring: nothing is lost while someone is reading. A process started
        # with hold_s keeps all its output for the reader it was started for (FIRST_READER)
        # until that reader attaches, or for hold_s at most (so a reader that never comes
        # cannot stall it for good).
        self.readers = {FIRST_READER: 0} if hold_s else {}
        self.first_reader_deadline = time.monotonic() + hold_s

    def attach(self, reader, seq):
        """Called with cond held: the reader the process was held for (if any) has come."""
        self.readers.pop(FIRST_READER, None)
        self.readers[reader] = seq

    def info(self):
        return {"pid": self.pid, **self.spec, "running": self.exit_code is None,
                "exit_code": self.exit_code, "signal": self.signal, "started_ms": self.started_ms,
                "stdin": self.stdin_w is not None or self.master is not None}


def spawn_pipes(spawner, drainer, argv, cwd, env, spec, ring_bytes, with_stdin, hold_s=0):
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r = in_w = None
    if with_stdin:
        in_r, in_w = os.pipe()
    try:
        popen = _popen(spawner, argv, cwd, env, in_r if with_stdin else subprocess.DEVNULL, out_w, err_w)
    except GuestError:
        for fd in (out_r, err_r, in_w):
            if fd is not None:
                os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w, in_r):
            if fd is not None:
                os.close(fd)
    proc = Proc(popen, spec, ring_bytes, in_w, None, hold_s)
    _watch(drainer, proc, {out_r: "stdout", err_r: "stderr"})
    return proc


def spawn_pty(spawner, drainer, argv, cwd, env, spec, ring_bytes, size, hold_s=0):
    import pty  # noqa: PLC0415 - only PTY processes need it
    master, slave = pty.openpty()
    os.set_inheritable(master, False)
    set_size(master, size.get("rows"), size.get("cols"))
    try:
        popen = _popen(spawner, argv, cwd, env, slave, slave, slave, ctty=True)
    except GuestError:
        os.close(master)
        raise
    finally:
        os.close(slave)
    proc = Proc(popen, spec, ring_bytes, None, master, hold_s)
    _watch(drainer, proc, {os.dup(master): "pty"})
    return proc


def _popen(spawner, argv, cwd, env, stdin, stdout, stderr, ctty=False):
    def spawn():
        return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, env=env,
                                start_new_session=True, preexec_fn=_take_ctty if ctty else None)
    try:
        return spawner.call(spawn) if spawner is not None else spawn()
    except (FileNotFoundError, NotADirectoryError) as e:
        # exec reports a missing cwd as ENOENT too: name the one that is missing.
        if cwd is not None and not os.path.isdir(cwd):
            raise GuestError(errors.NOT_FOUND,
                             f"cannot start {argv[0]}: the working directory {cwd} does not exist "
                             "(or is not a directory); create it first or give another cwd") from None
        raise GuestError(errors.NOT_FOUND, f"cannot start {argv[0]}: {e.strerror} (give the full path, "
                                           "or a "
                                           "shell command line without args)") from None
    except OSError as e:
        raise from_os_error(e, argv[0], "cannot start") from None


def _watch(drainer, proc, fds):
    threading.Thread(target=_pump, args=(drainer, proc, fds), name="podflare-proc", daemon=True).start()


def _pump(drainer, proc, fds):
    try:
        _pump_until_exit(drainer, proc, fds)
    except Exception:
        log_exception(f"process {proc.pid}")


def _pump_until_exit(drainer, proc, fds):
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
            elif not _read(proc, key.fd, fds[key.fd]):
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds.discard(key.fd)
        if pidfd is None and proc.popen.poll() is not None:
            exited = True
    code = proc.popen.wait()
    for fd in list(open_fds):
        for _ in range(_TAIL_READS):
            more = _read(proc, fd, fds[fd])
            if more is None:
                # A PTY passes what was written just before the exit through a kernel work
                # queue: it may not be readable yet. Wait a moment for it (pipes have it already).
                if fds[fd] == "pty" and _readable_within(fd, _PTY_TAIL_WAIT_S):
                    continue
                break
            if more is False:
                os.close(fd)
                open_fds.discard(fd)
                break
    sel.close()
    if pidfd is not None:
        os.close(pidfd)
    drainer.adopt(sorted(open_fds))
    with proc.cond:
        for fd in (proc.stdin_w, proc.master):
            if fd is not None:
                os.close(fd)
        proc.stdin_w = proc.master = None
        if code < 0:
            proc.signal = signals.Signals(-code).name if -code in signals.valid_signals() else str(-code)
            proc.exit_code = 128 - code
        else:
            proc.exit_code = code
        proc.cond.notify_all()


def _readable_within(fd, seconds):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


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
    # In pieces no larger than the ring: a bigger one would be cut to its tail, and a reader
    # holding the output (lossless) must get every byte.
    step = max(1, proc.ring.max_bytes)
    for start in range(0, len(data), step):
        piece = data[start:start + step]
        with proc.cond:
            while proc.readers and proc.ring.would_drop_unread(len(piece), min(proc.readers.values())):
                if FIRST_READER in proc.readers and time.monotonic() > proc.first_reader_deadline:
                    del proc.readers[FIRST_READER]
                    continue
                proc.cond.wait(_READER_WAIT_S)
            proc.ring.add(stream, piece)
            proc.cond.notify_all()
    return True


def write_all(fd, data, pid):
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
            raise GuestError(errors.BUSY, f"cannot write to the stdin of process {pid}: "
                                          f"{e.strerror}") from None


def set_size(fd, rows, cols):
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 1000:
            raise GuestError(errors.IO_ERROR, f"{name} must be an integer from 1 to 1000, got {v!r}")
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _take_ctty():
    # The new session's controlling terminal is the PTY (job control, Ctrl-C, SIGWINCH). Runs
    # in the child between fork and exec: no imports or locks here (other threads may hold them).
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
