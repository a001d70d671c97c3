# One host connection: framed receive, and sends serialised by a per-connection lock.

import array
import os
import socket
import threading

from . import frames
from .log import log

_RECV_BYTES = 256 * 1024
_MAX_FDS = 253  # SCM_MAX_FD: the most descriptors one message can carry


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.alive = True
        self._send_lock = threading.Lock()
        self._decoder = frames.Decoder()
        self._pending = []
        self.fds = []  # descriptors received with SCM_RIGHTS (the host's fork frame), oldest first
        self.relay = None  # the TCP socket this connection relays to (tcp_connect), if any

    def send(self, header, body=b""):
        """Send one frame; False (and the connection dropped) if the host is gone.

        Blocks while the host is not reading: hostd pauses the socket to pass a slow HTTP
        client's backpressure on, and that must stall the output, not drop it. A host that
        went away fails the send at once (EPIPE).
        """
        data = frames.encode(header, body)
        with self._send_lock:
            if not self.alive:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError as e:
                log(f"send failed, dropping connection: {e}")
                self._close_locked()
                return False

    def recv(self):
        """Next (header, body), or None at EOF. Raises frames.FrameError on bad input."""
        while not self._pending:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    _RECV_BYTES, socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize))
            except OSError:
                return None
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(raw[: len(raw) - len(raw) % fds.itemsize])
                    for fd in fds:
                        os.set_inheritable(fd, False)
                    self.fds.extend(fds)
            if not data:
                if self._decoder.buffered:
                    raise frames.FrameError("connection closed inside a frame")
                return None
            self._pending.extend(self._decoder.push(data))
        return self._pending.pop(0)

    def take_raw(self):
        """Bytes received past the last frame, for a connection that stops speaking frames
        (tcp_connect). Whole frames still waiting there are a protocol error."""
        if self._pending:
            raise frames.FrameError("frames arrived after tcp_connect; wait for tcp_connected")
        return self._decoder.take_buffered()

    def close(self):
        with self._send_lock:
            self._close_locked()

    def release(self):
        """Close and free the socket; only the connection's own thread calls this."""
        with self._send_lock:
            self._close_locked()
            self.sock.close()
        self.close_fds()

    def take_fds(self):
        fds, self.fds = self.fds, []
        return fds

    def close_fds(self):
        for fd in self.take_fds():
            try:
                os.close(fd)
            except OSError:
                pass

    def _close_locked(self):
        if not self.alive:
            return
        self.alive = False
        try:
            # shutdown (not just close) wakes this connection's thread blocked in recv.
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
