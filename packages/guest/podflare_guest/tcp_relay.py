# The port proxy's guest half: a host connection that sent `tcp_connect` is joined to a TCP
# connection to a server inside the sandbox (its loopback, in its own network namespace), and
# from then on carries raw bytes both ways. hostd speaks HTTP over it; no frames any more.

import errno
import select
import socket
import threading

from . import errors
from .errors import GuestError
from .frames import FrameError
from .log import log

CONNECT_TIMEOUT_S = 5.0
_CHUNK = 64 * 1024
# Worth trying the next address for; anything else (a timeout) is the answer.
_TRY_NEXT = (errno.ECONNREFUSED, errno.EADDRNOTAVAIL, errno.ENETUNREACH, errno.EAFNOSUPPORT,
             errno.EHOSTUNREACH)


def connect(port, timeout_s=CONNECT_TIMEOUT_S):
    """A TCP connection to 127.0.0.1:port, else [::1]:port. Raises GuestError."""
    last = None
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as e:
            last = e
            continue
        sock.settimeout(timeout_s)
        try:
            sock.connect((host, port))
        except socket.timeout:
            sock.close()
            raise GuestError(errors.TIMED_OUT,
                             f"connecting to port {port} took over {timeout_s:g} s") from None
        except OSError as e:
            sock.close()
            last = e
            if e.errno in _TRY_NEXT:
                continue
            raise GuestError(errors.IO_ERROR, f"cannot connect to port {port}: {e.strerror or e}") from None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if last is not None and last.errno not in (errno.ECONNREFUSED, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        raise GuestError(errors.IO_ERROR, f"cannot connect to port {port}: {last.strerror or last}")
    raise GuestError(errors.CONNECTION_REFUSED, f"nothing listens on port {port} (127.0.0.1 or ::1)")


def serve(conn, req_id, header):
    """Answers a tcp_connect frame and, once connected, relays until both sides are done.
    Runs on the connection's own thread; the connection is spent afterwards."""
    port = header.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise FrameError("frame 'tcp_connect': port must be an integer from 1 to 65535")
    try:
        sock = connect(port)
    except GuestError as e:
        conn.send({"t": "error", "id": req_id, "code": e.code, "message": e.message})
        return
    conn.relay = sock
    try:
        leftover = conn.take_raw()
        if not conn.send({"t": "tcp_connected", "id": req_id}):
            return
        if leftover:
            sock.sendall(leftover)
        relay(conn.sock, sock)
    except OSError as e:
        log(f"port {port}: relay ended: {e}")
    finally:
        sock.close()


def relay(a, b):
    """Copies bytes a -> b and b -> a until both directions reach EOF. An EOF is passed on as
    a half-close (shutdown SHUT_WR), so a peer that stops sending can still receive. An error
    on either side, or a destination that went away entirely, ends both."""
    failed = threading.Event()

    def pump(src, dst):
        poller = select.poll()
        poller.register(src, select.POLLIN)
        # POLLHUP on dst (always reported) means its peer closed completely: nobody would
        # read what src still sends, so stop instead of waiting on src forever. The other
        # direction still delivers what that peer sent before closing, then sees its EOF.
        poller.register(dst, 0)
        try:
            while True:
                events = dict(poller.poll())
                if events.get(dst.fileno(), 0) & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    return
                if not events.get(src.fileno()):
                    continue
                data = src.recv(_CHUNK)
                if not data:
                    break
                dst.sendall(data)
            _shutdown(dst, socket.SHUT_WR)
        except OSError:
            failed.set()
            # Wakes the other direction's blocked poll or send.
            _shutdown(a, socket.SHUT_RDWR)
            _shutdown(b, socket.SHUT_RDWR)

    other = threading.Thread(target=pump, args=(b, a), name="podflare-relay", daemon=True)
    other.start()
    pump(a, b)
    other.join()
    return not failed.is_set()


def _shutdown(sock, how):
    try:
        sock.shutdown(how)
    except OSError:
        pass
