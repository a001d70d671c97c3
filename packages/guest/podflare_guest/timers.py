# The kernel's one timer thread, made at start: at the sandbox's pids limit no timer thread
# could start later. It runs the kernel's deadlines: the SIGKILL after a bash call's SIGTERM,
# the timeout_ms of an exec whose caller is gone, and an interrupt sent again until the main
# thread has seen it (kernel.py).

import heapq
import itertools
import queue
import time

from .log import log_exception


class Timers:
    def __init__(self):
        self._queue = queue.SimpleQueue()
        self._seq = itertools.count()  # ties keep their order; callables are not comparable

    def at(self, deadline, fn):
        """Call fn() on the timer thread once time.monotonic() reaches deadline."""
        self._queue.put((deadline, next(self._seq), fn))

    def run(self):
        pending = []
        while True:
            timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
            try:
                heapq.heappush(pending, self._queue.get(timeout=timeout))
            except queue.Empty:
                pass
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                fn = heapq.heappop(pending)[2]
                try:
                    fn()
                except Exception:  # broad on purpose: one failed deadline must not stop the rest
                    log_exception("timer")
