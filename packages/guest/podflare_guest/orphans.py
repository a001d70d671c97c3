# Execs whose caller is gone: hostd's connection closed while the code ran (hostd was killed
# or restarted). Nobody is left to enforce the call's timeout_ms, so the kernel does: at its
# deadline the code is interrupted, as hostd would have done, and the REPL is free for the
# next caller instead of running an endless loop nobody waits for.

import heapq
import itertools
import queue
import time


class Orphans:
    def __init__(self, interrupt):
        self._queue = queue.SimpleQueue()
        self._interrupt = interrupt  # called with the job once its deadline passed
        self._seq = itertools.count()

    def add(self, deadline, job):
        self._queue.put((deadline, next(self._seq), job))

    def run(self):
        """The loop of a thread made at start (at the pids limit none could start later)."""
        pending = []
        while True:
            timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
            try:
                heapq.heappush(pending, self._queue.get(timeout=timeout))
            except queue.Empty:
                pass
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                self._interrupt(heapq.heappop(pending)[2])
