# fd-level capture of the kernel's stdout/stderr for the Python REPL.
#
# fds 1 and 2 are pipes for the whole kernel life, so output of os.system(), subprocesses
# and C extensions is captured, not only sys.stdout. One thread reads both pipes (one
# thread keeps the order of writes that are apart in time) and turns bytes into `out`
# frames for the running job. A job ends with a random token written to each pipe: when
# the reader has passed both, everything the job wrote has been sent, and `exit` may follow.

import os
import selectors
import sys
import threading
import time

from .lines import LineBuffer
from .log import log, log_exception

TOKEN_PREFIX = b"\x00PFSYNC"
_READ_BYTES = 1024 * 1024
_PIPE_BYTES = 1024 * 1024
# A partial line goes out when nothing more arrived for this long.
IDLE_FLUSH_S = 0.005
# end() gives up on the tokens when the reader has made no progress for this long.
SYNC_STALL_S = 2.0


class _Stream:
    def __init__(self, target):
        self.target = target  # 1 or 2
        self.r, self.w = os.pipe()  # non-inheritable; only dup2'd copies on 1/2 are inherited
        try:
            import fcntl

            fcntl.fcntl(self.w, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # a smaller pipe only costs throughput
        os.set_blocking(self.r, False)
        self.sink = None  # (conn, job id) receiving this stream's output, or None: discard
        self.lines = LineBuffer()
        self.hold = b""  # tail that may be the start of a token
        self.tokens = []  # tokens written but not yet read back
        self.done = set()  # tokens read back, with everything before them sent
        self.keep = set()  # tokens of a mid-job sync: the output after them is still the job's


class Capture:
    def __init__(self):
        self._cond = threading.Condition()
        self._streams = [_Stream(1), _Stream(2)]
        self._devnull = os.open(os.devnull, os.O_RDWR)
        self._activity = time.monotonic()
        self._sending = False
        self.install(force=True)
        threading.Thread(target=self._run, name="podflare-capture", daemon=True).start()

    # -- main thread -------------------------------------------------------------------

    def install(self, force=False):
        """Point fds 0/1/2 and sys.std* back at ours, in case user code closed or moved them."""
        for s in self._streams:
            os.set_blocking(s.w, True)
            os.dup2(s.w, s.target)
        os.dup2(self._devnull, 0)
        for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
            current = getattr(sys, name, None)
            try:
                broken = current is None or current.closed
            except Exception:
                broken = False  # an object of the user's without .closed: leave it
            if force or broken:
                setattr(sys, name, open(fd, mode, buffering=1 if mode == "w" else -1,
                                        encoding="utf-8", errors="backslashreplace",
                                        closefd=False))

    def close_fds(self):
        """A fork child's copy of these pipes is useless (its reader thread is the parent's)."""
        for fd in [s.r for s in self._streams] + [s.w for s in self._streams] + [self._devnull]:
            try:
                os.close(fd)
            except OSError:
                pass

    def begin(self, conn, job_id):
        with self._cond:
            for s in self._streams:
                s.sink = (conn, job_id)

    def write_stderr(self, data):
        """Kernel-written text for the job (tracebacks): straight into the stderr pipe."""
        _write_all(self._streams[1].w, data)

    def end(self):
        """Wait until all the job's output has been sent, then stop routing to it."""
        self._drop_writes_to_closed_fds()
        self._sync(keep=False)

    def sync(self):
        """Wait until all output written so far has been sent, and keep routing to the job:
        a display result sent next comes after the lines printed before it."""
        self._sync(keep=True)

    def _sync(self, keep):
        flush_std_streams()
        token = TOKEN_PREFIX + os.urandom(8).hex().encode() + b"\x00"
        with self._cond:
            for s in self._streams:
                s.tokens.append(token)
                if keep:
                    s.keep.add(token)
        for s in self._streams:
            _write_all(s.w, token)
        started = time.monotonic()
        with self._cond:
            while not all(token in s.done for s in self._streams):
                # Quiet before the sync began says nothing about the reader being stuck.
                idle = time.monotonic() - max(self._activity, started)
                if not self._sending and idle > SYNC_STALL_S:
                    log("capture: output sync timed out")
                    break
                self._cond.wait(0.1)
            for s in self._streams:
                s.done.discard(token)
                s.keep.discard(token)
                if not keep:
                    s.sink = None
                    s.lines = LineBuffer()

    def _drop_writes_to_closed_fds(self):
        """Text the job wrote after closing fd 1 or 2 is lost, as on any machine.

        It sits in sys.stdout's buffer (the write failed with EBADF); flushed after the next
        install() it would land in the next exec's output. So it is flushed to /dev/null here.
        """
        closed = []
        for s in self._streams:
            try:
                os.fstat(s.target)
            except OSError:
                closed.append(s)
        if not closed:
            return
        for s in closed:
            os.dup2(self._devnull, s.target)
        flush_std_streams()
        for s in closed:
            os.dup2(s.w, s.target)

    # -- reader thread -----------------------------------------------------------------

    def _run(self):
        sel = selectors.DefaultSelector()
        for s in self._streams:
            sel.register(s.r, selectors.EVENT_READ, s)
        while True:
            try:
                with self._cond:
                    pending = any(s.sink and s.lines.pending for s in self._streams)
                events = sel.select(IDLE_FLUSH_S if pending else None)
                if not events:
                    self._flush_partials()
                for key, _ in events:
                    self._read(key.data)
            except Exception:
                log_exception("capture reader")
                time.sleep(0.01)

    def _read(self, s):
        try:
            data = os.read(s.r, _READ_BYTES)
        except BlockingIOError:
            return
        self._activity = time.monotonic()
        with self._cond:
            sends, seen = self._process(s, data)
        self._send(sends)
        if seen:
            with self._cond:
                s.done.update(seen)
                self._cond.notify_all()

    def _flush_partials(self):
        with self._cond:
            sends = []
            for s in self._streams:
                if s.sink:
                    sends += [(s.sink, s.target, c) for c in s.lines.flush()]
        self._send(sends)

    def _process(self, s, data):
        """Split data at tokens; return (frames to send, tokens passed). Lock held."""
        buf = s.hold + data
        s.hold = b""
        sends = []
        seen = []
        while s.tokens:
            hits = [(buf.find(t), t) for t in s.tokens]
            hits = [h for h in hits if h[0] >= 0]
            if not hits:
                break
            idx, token = min(hits)
            sends += self._route(s, buf[:idx], final=True)
            s.tokens.remove(token)
            seen.append(token)
            if token not in s.keep:
                s.sink = None  # anything after the token is not the job's
            buf = buf[idx + len(token):]
        if s.tokens:
            cut = _token_prefix_start(buf, s.tokens)
            s.hold = buf[cut:]
            buf = buf[:cut]
        sends += self._route(s, buf, final=False)
        return sends, seen

    def _route(self, s, data, final):
        if s.sink is None:
            return []
        chunks = s.lines.feed(data)
        if final:
            chunks += s.lines.flush()
        return [(s.sink, s.target, c) for c in chunks]

    def _send(self, sends):
        if not sends:
            return
        self._sending = True
        try:
            for (conn, job_id), fd, chunk in sends:
                conn.send({"t": "out", "id": job_id, "fd": fd}, chunk)
        finally:
            self._sending = False
            self._activity = time.monotonic()


def flush_std_streams():
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        try:
            stream.flush()
        except Exception:
            pass  # closed, replaced by something odd, or its fd is gone: nothing to flush


def _token_prefix_start(buf, tokens):
    """Index where a possible (incomplete) token begins at the end of buf, else len(buf)."""
    size = len(tokens[0])
    i = buf.find(b"\x00", max(0, len(buf) - size + 1))
    while i >= 0:
        tail = buf[i:]
        if any(t.startswith(tail) for t in tokens):
            return i
        i = buf.find(b"\x00", i + 1)
    return len(buf)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            import select

            select.select([], [fd], [], 1.0)
