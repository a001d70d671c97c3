# Threads that serve host connections, started with the kernel rather than per connection:
# at the sandbox's pids limit (a fork bomb) no new thread can start, yet file transfers,
# the port proxy and the control connection must go on. A connection that finds no idle
# worker gets a thread of its own if one can start, else it is closed at once (hostd then
# answers 503 sandbox_at_process_limit instead of waiting).

import queue
import threading

from .log import log

# The control connection holds one worker for the life of the kernel; the rest serve file
# transfers side by side (each costs one task against pids.max).
SPARE_WORKERS = 4


class Workers:
    def __init__(self, serve, count=SPARE_WORKERS):
        self._serve = serve
        self._lock = threading.Lock()
        self._idle = 0
        self._conns = queue.SimpleQueue()
        for _ in range(count):
            threading.Thread(target=self._run, name="podflare-conn", daemon=True).start()

    def hand(self, conn):
        """Give `conn` to an idle worker or a new thread; False if neither is possible."""
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                self._conns.put(conn)
                return True
        try:
            threading.Thread(target=self._serve, args=(conn,), name="podflare-conn", daemon=True).start()
            return True
        except RuntimeError as e:  # "can't start new thread": the pids limit
            log(f"no worker for a host connection: {e}")
            return False

    def _run(self):
        while True:
            with self._lock:
                self._idle += 1
            self._serve(self._conns.get())
