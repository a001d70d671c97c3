# Background drainer for the output pipes of finished bash calls.
#
# A background child (`server &`) keeps the call's pipes open after bash exits. Closing
# them would give it EPIPE/SIGPIPE, and leaving them unread would block it once the pipe
# fills; so one shared thread reads and discards until EOF, then closes.

import os
import selectors
import threading

from .log import log_exception

_READ_BYTES = 64 * 1024


class Drainer:
    def __init__(self):
        self._lock = threading.Lock()
        self._incoming = []
        self._wake_r = self._wake_w = None

    def adopt(self, fds):
        """Take ownership of non-blocking read fds."""
        if not fds:
            return
        with self._lock:
            if self._wake_r is None:
                self._wake_r, self._wake_w = os.pipe()
                os.set_blocking(self._wake_r, False)
                os.set_blocking(self._wake_w, False)
                threading.Thread(target=self._run, name="podflare-drain", daemon=True).start()
            self._incoming.extend(fds)
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # a wake-up is already pending

    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        while True:
            try:
                for key, _ in sel.select():
                    if key.fd == self._wake_r:
                        self._take_new(sel)
                    else:
                        self._drain(sel, key.fd)
            except Exception:
                log_exception("drainer")

    def _take_new(self, sel):
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            fds, self._incoming = self._incoming, []
        for fd in fds:
            sel.register(fd, selectors.EVENT_READ)

    def _drain(self, sel, fd):
        try:
            if os.read(fd, _READ_BYTES):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        sel.unregister(fd)
        os.close(fd)
