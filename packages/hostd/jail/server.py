"""The jail server: one long-lived privileged process that has imported the jail helpers once
and forks a fresh child per request, so a create or fork pays a fork() instead of a Python
start-up (~10 ms spawn + ~15 ms imports) per helper call.

Run as root by hostd: python3 -E -S server.py SOCKET_PATH
It listens on SOCKET_PATH (mode 0600, in a root-only directory made for it), answers only
peers whose uid is 0, prints "ready" on stdout once listening, and exits (removing the socket
and its directory) when its stdin reaches end of file, i.e. when hostd is gone, or on SIGTERM
(hostd removes stale directories of servers killed outright; jail/stale-jail-dirs.ts). It stays
single-threaded: every request is served by a forked child, which is what makes concurrent
requests possible and keeps the helpers' own fork()/unshare()/setns() calls safe.

A request is one connection: the client writes {"op": "launch"|"enter"|"fork"|"btrfs"|"netcfg", "config":
{...}} and shuts down its sending side. The child writes "#pid N" first (so the client can
kill it on a timeout), then exactly what the helper script would print on stdout and stderr;
once the child has exited, the server adds "#exit N" with its status and closes. The child
holds only stdio (fd 0 on /dev/null, 1 and 2 on the connection) when the helper code runs: the
same descriptors a helper spawned by hostd had, so nothing of the server leaks into a sandbox.
"""

import io
import json
import os
import select
import signal
import socket
import struct
import sys

import btrfs_ioctl
import disk_view
import enter
import fork
import launch
import linux
import netcfg
import seccomp

HANDLERS = {"launch": launch.main, "enter": enter.main, "fork": fork.main, "btrfs": btrfs_ioctl.main,
            "netcfg": netcfg.main}
MAX_REQUEST = 1 << 20


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def read_request(conn: socket.socket) -> dict:
    raw = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        raw += chunk
        if len(raw) > MAX_REQUEST:
            raise ValueError("request too large")
    req = json.loads(raw)
    if not isinstance(req, dict) or req.get("op") not in HANDLERS:
        raise ValueError(f"unknown op; expected one of {sorted(HANDLERS)}")
    return req


def serve_one(conn: socket.socket, listener: socket.socket, wake: int) -> None:
    """In the forked child: run one helper with the connection as its stdout and stderr.
    Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        os.close(wake)
        listener.close()
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(conn.fileno(), 1)
        os.dup2(conn.fileno(), 2)
        os.close(null)
        conn.close()
        os.write(1, f"#pid {os.getpid()}\n".encode())
        with socket.socket(fileno=os.dup(1)) as sock:
            req = read_request(sock)
        if req["op"] != "enter":
            disk_view.close_client()  # only a process entering a sandbox hands over a listener
        sys.stdin = io.StringIO(json.dumps(req.get("config")))
        code = HANDLERS[req["op"]]()
    except BaseException as e:  # everything becomes an answer
        try:
            sys.stdout.write(json.dumps({"error": f"jail server: {e}"}) + "\n")
        except BaseException:  # the connection may be gone: nothing left to tell
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # the connection may be gone: exit all the same
            pass
        os._exit(code if isinstance(code, int) else 1)


def exit_status(status: int) -> int:
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def finish_reaped(pending: dict) -> None:
    """Answer "#exit N" for every request child that has exited, then let go of its
    connection: the client learns the status only once the helper is gone (out of every
    cgroup it joined), as it did when it waited for a spawned helper."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = pending.pop(pid, None)
        if conn is None:
            continue
        try:
            conn.sendall(f"\n#exit {exit_status(status)}\n".encode())
        except OSError:
            pass
        conn.close()


def main() -> int:
    path = sys.argv[1]
    # Shielded like hostd (which it inherits from): an OOM must not take the jail away. The
    # helpers it forks raise their own score before starting a sandbox's processes.
    try:
        linux.set_oom_score_adj(-1000)
    except PermissionError:
        pass  # no CAP_SYS_RESOURCE: hostd has said so; we keep hostd's value
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(128)
    # SIGCHLD wakes the loop through a pipe; the handler itself does nothing.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    # A SIGTERM (a service manager stopping hostd's whole group) ends the loop through the
    # finally below, so the socket's directory goes too; a request child dies of it as before.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pending = {}  # request child pid -> its connection
    seccomp._compiled()  # built once here, inherited by every request child
    seccomp._compiled(True)
    # The supervisor that answers statfs for the sandboxes this server enters (disk_view.py);
    # it outlives this server while sandboxes still use it.
    disk_view.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        while True:
            ready, _, _ = select.select([listener, 0, wake_r], [], [])
            if 0 in ready and not os.read(0, 4096):
                return 0  # hostd is gone
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                finish_reaped(pending)
            if listener not in ready:
                continue
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            try:
                if peer_uid(conn) != 0:
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    os.close(wake_r)
                    serve_one(conn, listener, wake_w)
                pending[pid] = conn
            except OSError:
                conn.close()  # out of processes: the client sees the connection close and fails
    finally:
        try:
            os.unlink(path)
            os.rmdir(os.path.dirname(path))  # hostd made it for this server alone
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
