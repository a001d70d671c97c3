# Test helpers: start the real kernel as a subprocess and talk frames to it.

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

GUEST_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, GUEST_DIR)
from podflare_guest import frames  # noqa: E402

# The same launcher hostd uses, with --listen instead of an inherited socket.
LAUNCHER = ("import sys; sys.path.insert(0, %r); from podflare_guest.main import main; "
            "del sys.path[0]; main()" % GUEST_DIR)
TIMEOUT_S = 10


class Kernel:
    def __init__(self, extra_args=(), preexec_fn=None, inherit_listener=False):
        self.dir = tempfile.mkdtemp(prefix="pf-guest-test-")
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)
        self.sock_path = os.path.join(self.dir, "k.sock")
        self.log_path = os.path.join(self.dir, "kernel.log")
        self._log = open(self.log_path, "wb")
        args = [sys.executable, "-c", LAUNCHER, *extra_args]
        env = dict(os.environ)
        pass_fds = ()
        listener = None
        if inherit_listener:
            # As hostd does it: a bound, listening (here non-blocking) socket at a known fd.
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.sock_path)
            listener.listen(8)
            listener.setblocking(False)
            env["PODFLARE_LISTEN_FD"] = str(listener.fileno())
            pass_fds = (listener.fileno(),)
        else:
            args += ["--listen", self.sock_path]
        self.proc = subprocess.Popen(
            args, cwd=self.work, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=self._log, preexec_fn=preexec_fn, pass_fds=pass_fds)
        if listener is not None:
            listener.close()

    def connect(self):
        # The socket file appears at bind(), a moment before listen(): retry until accepted.
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                return Client(self.sock_path)
            except (FileNotFoundError, ConnectionRefusedError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kernel did not start: " + self.log()) from None
                time.sleep(0.005)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT_S)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.decoder = frames.Decoder()
        self.pending = []
        self.next_id = 1
        self.hello = self.recv()

    def close(self):
        self.sock.close()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def send(self, header, body=b""):
        self.sock.sendall(frames.encode(header, body))

    def recv(self):
        """Next frame (header, body); None when the kernel closed the connection."""
        while not self.pending:
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.pending.extend(self.decoder.push(data))
        return self.pending.pop(0)

    def recv_for(self, req_id):
        """Next frame with this id (frames of other ids are dropped)."""
        while True:
            frame = self.recv()
            if frame is None:
                raise AssertionError("connection closed")
            if frame[0].get("id") == req_id:
                return frame

    def start_exec(self, code, lang="python", **extra):
        req_id = self.new_id()
        self.send({"t": "exec", "id": req_id, "lang": lang, "code": code, **extra})
        return req_id

    def wait_exec(self, req_id, timeline=None):
        """Collect the exec's output until its exit: (code, stdout, stderr)."""
        out = {1: bytearray(), 2: bytearray()}
        while True:
            h, body = self.recv_for(req_id)
            if timeline is not None:
                timeline.append((time.monotonic(), h, body))
            if h["t"] == "out":
                out[h["fd"]] += body
            elif h["t"] == "exit":
                return h["code"], bytes(out[1]), bytes(out[2])
            elif h["t"] not in ("result", "exc"):  # rich results: see exec_frames
                raise AssertionError(f"unexpected frame {h}")

    def exec_frames(self, code, lang="python", **extra):
        """All of an exec's frames, in order, up to and with its exit: [(header, body)]."""
        req_id = self.start_exec(code, lang, **extra)
        frames = []
        while True:
            h, body = self.recv_for(req_id)
            frames.append((h, body))
            if h["t"] == "exit":
                return frames

    def exec(self, code, lang="python", **extra):
        return self.wait_exec(self.start_exec(code, lang, **extra))

    def request(self, header, body=b""):
        """Send a request and return its first answer frame."""
        req_id = self.new_id()
        self.send({**header, "id": req_id}, body)
        return self.recv_for(req_id)

    def write_file(self, path, data, chunk=1 << 20, mode=None):
        req_id = self.new_id()
        head = {"t": "write_open", "id": req_id, "path": path}
        if mode is not None:
            head["mode"] = mode
        self.send(head)
        for i in range(0, len(data), chunk):
            self.send({"t": "write_chunk", "id": req_id}, data[i:i + chunk])
        self.send({"t": "write_close", "id": req_id})
        return self.recv_for(req_id)[0]

    def read_file(self, path):
        """(header, bytes) for a file; (dir or error header, None) otherwise."""
        req_id = self.new_id()
        self.send({"t": "read", "id": req_id, "path": path})
        h, _ = self.recv_for(req_id)
        if h["t"] != "file":
            return h, None
        data = bytearray()
        while True:
            h2, body = self.recv_for(req_id)
            if h2["t"] == "data":
                data += body
            elif h2["t"] == "done":
                return h, bytes(data)
            else:
                raise AssertionError(f"unexpected frame {h2}")


class KernelTest(unittest.TestCase):
    """One kernel for the whole class; self.c is a connection to it."""

    kernel_args = ()
    kernel_preexec = None

    @classmethod
    def setUpClass(cls):
        cls.kernel = Kernel(cls.kernel_args, cls.kernel_preexec)
        try:
            cls.c = cls.kernel.connect()
        except BaseException:
            cls.kernel.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.kernel.stop()

    def run_ok(self, code, lang="python", **extra):
        rc, out, err = self.c.exec(code, lang, **extra)
        self.assertEqual(rc, 0, f"exit {rc}, stderr: {err!r}")
        return out
