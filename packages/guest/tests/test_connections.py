import os
import struct
import sys
import time
import unittest

from harness import Kernel, KernelTest
from podflare_guest import frames


class ConnectionsTest(KernelTest):
    def test_hello_on_every_connection(self):
        expected = {"t": "hello", "version": 1, "pid": self.kernel.proc.pid,
                    "python": "%d.%d.%d" % sys.version_info[:3]}
        self.assertEqual(self.c.hello, (expected, b""))
        c2 = self.kernel.connect()
        self.assertEqual(c2.hello, (expected, b""))
        c2.close()

    def test_ping(self):
        self.assertEqual(self.c.request({"t": "ping"})[0]["t"], "pong")

    def test_reap_waits_for_dead_children_of_the_kernel(self):
        # A child forked by REPL code that exits at once: a zombie of the kernel until reaped.
        req = self.c.start_exec("import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid)")
        code, out, _ = self.c.wait_exec(req)
        self.assertEqual(code, 0)
        pid = int(out)
        deadline = time.monotonic() + 5
        while True:  # until the child has exited
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            self.assertLess(time.monotonic(), deadline, "the forked child did not exit")
            time.sleep(0.01)
        h, _ = self.c.request({"t": "reap"})
        self.assertEqual((h["t"], h["count"]), ("reaped", 1))
        self.assertFalse(os.path.exists(f"/proc/{pid}"))

    def test_reap_leaves_the_children_user_code_waits_for(self):
        # Exited (a zombie) before the reap; had the reap waited for it, wait() would say 0.
        code = ("import subprocess, time\np = subprocess.Popen(['sh', '-c', 'exit 3'])\n"
                "while open(f'/proc/{p.pid}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z':\n"
                "    time.sleep(0.01)")
        self.assertEqual(self.c.wait_exec(self.c.start_exec(code))[0], 0)
        h, _ = self.c.request({"t": "reap"})
        self.assertEqual(h["count"], 0)
        self.assertEqual(self.c.wait_exec(self.c.start_exec("print(p.wait())")), (0, b"3\n", b""))

    def test_file_transfer_while_an_exec_runs_on_another_connection(self):
        with open(os.path.join(self.kernel.work, "side.txt"), "wb") as f:
            f.write(b"side data")
        t0 = time.monotonic()
        req = self.c.start_exec("import time\nprint('running', flush=True)\ntime.sleep(1.5)\nprint('end')")
        self.assertEqual(self.c.recv_for(req)[1], b"running\n")
        side = self.kernel.connect()
        try:
            h, data = side.read_file("side.txt")
            self.assertEqual(data, b"side data")
            self.assertEqual(side.write_file("side2.txt", b"up")["t"], "done")
            self.assertEqual(side.request({"t": "ping"})[0]["t"], "pong")
            self.assertLess(time.monotonic() - t0, 1.2, "file requests waited for the exec")
        finally:
            side.close()
        self.assertEqual(self.c.wait_exec(req), (0, b"end\n", b""))

    def test_execs_from_two_connections_run_in_order(self):
        other = self.kernel.connect()
        try:
            a = self.c.start_exec("import time; print(flush=True); time.sleep(0.2); order = ['a']")
            self.c.recv_for(a)  # a is running; b queues behind it
            b = other.start_exec("order.append('b'); print(order)")
            self.assertEqual(self.c.wait_exec(a)[0], 0)
            self.assertEqual(other.wait_exec(b), (0, b"['a', 'b']\n", b""))
        finally:
            other.close()

    def test_job_completes_when_its_connection_closes(self):
        c2 = self.kernel.connect()
        req = c2.start_exec("import time\nprint('go', flush=True)\ntime.sleep(0.3)\n"
                            "print('x' * 1000000)\nfinished = True")
        self.assertEqual(c2.recv_for(req)[1], b"go\n")
        c2.close()
        self.assertEqual(self.run_ok("print(finished)"), b"True\n")

    def test_unknown_frame_type_gets_an_error(self):
        h, _ = self.c.request({"t": "frobnicate"})
        self.assertEqual((h["t"], h["code"]), ("error", "io_error"))

    def test_malformed_input_closes_only_that_connection(self):
        cases = [
            struct.pack(">I", frames.FRAME_MAX_BYTES + 1),
            struct.pack(">II", 4 + 3, 3) + b"{x}",
            frames.encode({"t": "exec", "id": "one", "lang": "python", "code": ""}),
            frames.encode({"t": "exec", "id": 1, "lang": "python"}),
        ]
        for data in cases:
            bad = self.kernel.connect()
            bad.sock.sendall(data)
            self.assertIsNone(bad.recv(), data)
            bad.close()
        self.assertEqual(self.c.request({"t": "ping"})[0]["t"], "pong")


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class InheritedListenerTest(unittest.TestCase):
    def test_kernel_serves_an_inherited_socket_and_hides_it_from_user_code(self):
        kernel = Kernel(inherit_listener=True)
        try:
            c = kernel.connect()
            self.assertEqual(c.hello[0]["t"], "hello")
            self.assertEqual(c.exec("import os; print('PODFLARE_LISTEN_FD' in os.environ)"),
                             (0, b"False\n", b""))
            list_fds = "for f in /proc/$$/fd/*; do readlink $f; done; true"
            for lang, code in (("bash", list_fds),
                               ("python",
                                f"import os, shlex; os.system('bash -c ' + shlex.quote({list_fds!r}))")):
                rc, out, _ = c.exec(code, lang)
                self.assertEqual(rc, 0)
                self.assertNotIn(b"socket:", out, lang)
                self.assertIn(b"pipe:", out)
            # Idle means asleep: no busy loop on the non-blocking listener or anywhere else.
            cpu_before = _cpu_seconds(kernel.proc.pid)
            time.sleep(0.5)
            self.assertLess(_cpu_seconds(kernel.proc.pid) - cpu_before, 0.05)
            c2 = kernel.connect()  # the listener still accepts
            self.assertEqual(c2.request({"t": "ping"})[0]["t"], "pong")
            c2.close()
            c.close()
        finally:
            kernel.stop()
