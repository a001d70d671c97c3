"""The launch channel: how the processes a launch makes report to its top (a SOCK_SEQPACKET
pair). Every message carries the sender's host pid (SCM_CREDENTIALS), so the top learns the
pids of inits it cannot wait for itself. Messages: "U" (family user namespace made), "F"
(family init ready), "P" (sandbox init forked), "R" (sandbox init ready), "E <what>" (failed).
"""

import select
import socket
import struct
import time

READY_TIMEOUT_S = 15.0


def send(chan: socket.socket, msg: str) -> None:
    chan.send(msg.replace("\n", " ").encode()[:4000])


class Reader:
    """Messages from the processes the launch makes, each tagged by the kernel with the
    sender's host pid (SCM_CREDENTIALS), with one deadline for the whole launch."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline
        self.init_pid = 0
        self.family_pid = 0

    def line(self) -> str:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("sandbox init did not become ready in time")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                break
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("iII")))
        if not data:
            raise EOFError("sandbox setup exited without reporting")
        pid = 0
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", raw[: struct.calcsize("iII")])[0]
        text = data.decode(errors="replace")
        if text == "P":
            self.init_pid = pid
        elif text == "F":
            self.family_pid = pid
        elif text.startswith("E "):
            raise RuntimeError(text[2:])
        return text

    def find_init(self, timeout_s: float) -> int:
        """After a failure: the init's pid, if one was forked (it reports right after fork)."""
        self.deadline = min(self.deadline, time.monotonic() + timeout_s)
        while not self.init_pid:
            try:
                self.line()
            except (EOFError, TimeoutError, OSError):
                break
            except RuntimeError:
                continue
        return self.init_pid
