import os
import signal
import time

from harness import KernelTest


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class BashTest(KernelTest):
    def test_output_and_exit_code(self):
        self.assertEqual(self.c.exec("echo hi; echo err >&2; exit 7", "bash"), (7, b"hi\n", b"err\n"))

    def test_partial_line_and_stdin(self):
        self.assertEqual(self.c.exec("cat; printf abc", "bash"), (0, b"abc", b""))

    def test_death_by_signal_is_128_plus_signo(self):
        self.assertEqual(self.c.exec("kill -9 $$", "bash")[0], 137)

    def test_each_call_is_a_fresh_bash(self):
        self.run_ok("FOO=1; export BAR=2", "bash")
        self.assertEqual(self.run_ok('echo "[$FOO][$BAR]"', "bash"), b"[][]\n")

    def test_large_output(self):
        rc, out, _ = self.c.exec("head -c 10485760 /dev/zero | tr '\\0' a", "bash")
        self.assertEqual((rc, len(out), out.strip(b"a")), (0, 10485760, b""))

    def test_background_child_does_not_hold_the_call(self):
        t0 = time.monotonic()
        rc, out, _ = self.c.exec("sleep 30 & echo $!", "bash")
        took = time.monotonic() - t0
        pid = int(out)
        try:
            self.assertEqual(rc, 0)
            self.assertLess(took, 1)
            time.sleep(0.2)
            self.assertTrue(_alive(pid), "background sleep died with the call")
        finally:
            os.kill(pid, signal.SIGKILL)

    def test_background_child_can_keep_writing_after_the_call(self):
        marker = os.path.join(self.kernel.work, "bg-finished")
        t0 = time.monotonic()
        rc, out, _ = self.c.exec(
            "echo before; (for i in $(seq 1 40); do echo line $i; echo err $i >&2; sleep 0.01; done;"
            f" touch {marker}) & echo after", "bash")
        self.assertLess(time.monotonic() - t0, 1)
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith(b"before\n"))
        deadline = time.monotonic() + 5
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The writer was not killed by EPIPE/SIGPIPE: the drainer kept reading its pipes.
        self.assertTrue(os.path.exists(marker))
        self.assertEqual(self.run_ok("echo next", "bash"), b"next\n")

    def test_interrupt(self):
        req = self.c.start_exec("echo started; sleep 100", "bash")
        self.assertEqual(self.c.recv_for(req)[1], b"started\n")
        t0 = time.monotonic()
        self.c.send({"t": "interrupt", "id": req})
        rc, _, _ = self.c.wait_exec(req)
        self.assertEqual(rc, 128 + signal.SIGTERM)
        self.assertLess(time.monotonic() - t0, 1)

    def test_interrupt_escalates_to_sigkill(self):
        req = self.c.start_exec("trap '' TERM; echo started; sleep 100", "bash")
        self.assertEqual(self.c.recv_for(req)[1], b"started\n")
        t0 = time.monotonic()
        self.c.send({"t": "interrupt", "id": req})
        rc, _, _ = self.c.wait_exec(req)
        took = time.monotonic() - t0
        self.assertEqual(rc, 128 + signal.SIGKILL)
        self.assertGreater(took, 0.8)
        self.assertLess(took, 3)

    def test_cwd_and_env(self):
        sub = os.path.join(self.kernel.work, "bash-sub")
        os.makedirs(sub, exist_ok=True)
        out = self.run_ok('pwd; echo "$PF_A"', "bash", cwd=sub, env={"PF_A": "a b"})
        self.assertEqual(out, f"{sub}\na b\n".encode())
        self.assertEqual(self.run_ok("pwd", "bash"), f"{self.kernel.work}\n".encode())
        self.assertEqual(self.run_ok("pwd", "bash", cwd="bash-sub"), f"{sub}\n".encode())

    def test_invalid_env_name(self):
        rc, _, err = self.c.exec("true", "bash", env={"A=B": "x"})
        self.assertEqual(rc, 2)
        self.assertIn(b"A=B", err)

    def test_missing_cwd_fails_the_call_without_running_it(self):
        rc, out, err = self.c.exec("pwd", "bash", cwd="no/such/dir")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn(b"no/such/dir: No such file or directory", err)

    def test_unknown_lang(self):
        rc, _, err = self.c.exec("1", "ruby")
        self.assertEqual(rc, 2)
        self.assertIn(b"ruby", err)

    def test_long_code_goes_through_a_pipe(self):
        code = "echo start\n" + "# " + "x" * 200_000 + "\necho end \"$0\" | cut -c1-8\n"
        self.assertEqual(self.run_ok(code, "bash"), b"start\nend /pro\n")

    def test_code_with_a_nul_byte(self):
        self.assertEqual(self.run_ok("echo a\n#\0\necho b", "bash"), b"a\nb\n")


class BashCwdOptionTest(KernelTest):
    kernel_args = ("--bash-cwd", "/")

    def test_default_cwd_comes_from_the_option(self):
        self.assertEqual(self.run_ok("pwd", "bash"), b"/\n")
