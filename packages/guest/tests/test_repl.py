import os
import random
import time

from harness import KernelTest


class PersistenceTest(KernelTest):
    def test_globals_survive_between_calls(self):
        self.run_ok("x = 41")
        self.assertEqual(self.run_ok("print(x + 1)"), b"42\n")

    def test_imports_and_open_files_survive(self):
        self.run_ok("import json\nf = open('persist.txt', 'w')\nf.write('one ')")
        self.run_ok("f.write(json.dumps([2]))\nf.close()")
        self.assertEqual(self.run_ok("print(open('persist.txt').read())"), b"one [2]\n")

    def test_classes_defined_in_the_repl_pickle(self):
        out = self.run_ok("import pickle\nclass P:\n    pass\n"
                          "print(type(pickle.loads(pickle.dumps(P()))).__qualname__, P.__module__)")
        self.assertEqual(out, b"P __main__\n")

    def test_last_expression_is_not_echoed(self):
        self.assertEqual(self.run_ok("1 + 1"), b"")


class ErrorsTest(KernelTest):
    def test_exception_gives_exit_1_and_a_traceback_without_kernel_frames(self):
        rc, out, err = self.c.exec("def f():\n    return 1 / 0\nf()")
        self.assertEqual(rc, 1)
        self.assertIn(b"Traceback (most recent call last):", err)
        self.assertIn(b'File "<exec>", line 3, in <module>', err)
        self.assertIn(b"return 1 / 0", err)
        self.assertTrue(err.endswith(b"ZeroDivisionError: division by zero\n"), err)
        self.assertNotIn(b"podflare_guest", err)
        self.assertEqual(self.run_ok("print('still alive')"), b"still alive\n")

    def test_syntax_error(self):
        rc, _, err = self.c.exec("x = (")
        self.assertEqual(rc, 1)
        self.assertIn(b"SyntaxError", err)
        self.assertNotIn(b"podflare_guest", err)

    def test_system_exit_codes(self):
        self.assertEqual(self.c.exec("raise SystemExit(3)")[0], 3)
        self.assertEqual(self.c.exec("import sys; sys.exit()")[0], 0)
        rc, _, err = self.c.exec("import sys; sys.exit('bye')")
        self.assertEqual((rc, err), (1, b"bye\n"))
        self.assertEqual(self.c.exec("exit(4)")[0], 4)  # site's exit() also closes sys.stdin
        self.assertEqual(self.run_ok("print('after exit')"), b"after exit\n")

    def test_traceback_of_an_earlier_cell_shows_no_wrong_source(self):
        self.run_ok("def g():\n    raise ValueError('from g')")
        rc, _, err = self.c.exec("pass\npass\ng()")
        self.assertEqual(rc, 1)
        self.assertIn(b"ValueError: from g", err)
        self.assertIn(b'line 2, in g', err)
        self.assertNotIn(b"    pass", err)  # line 2 of *this* cell is not g's line 2


class OutputTest(KernelTest):
    def test_stdout_and_stderr_keep_their_order(self):
        code = ("import sys, time\n"
                "for i in range(3):\n"
                "    print('out', i, flush=True)\n"
                "    time.sleep(0.03)\n"
                "    print('err', i, file=sys.stderr, flush=True)\n"
                "    time.sleep(0.03)\n")
        req = self.c.start_exec(code)
        timeline = []
        rc, out, err = self.c.wait_exec(req, timeline)
        self.assertEqual(rc, 0)
        self.assertEqual(out, b"out 0\nout 1\nout 2\n")
        self.assertEqual(err, b"err 0\nerr 1\nerr 2\n")
        order = [(h["fd"], body) for _, h, body in timeline if h["t"] == "out"]
        self.assertEqual([fd for fd, _ in order], [1, 2, 1, 2, 1, 2])

    def test_large_output_is_complete_and_exact(self):
        code = ("import random, sys\n"
                "data = random.Random(7).randbytes(10 * 1024 * 1024)\n"
                "sys.stdout.buffer.write(data)\n"
                "sys.stderr.buffer.write(data[::-1])\n")
        data = random.Random(7).randbytes(10 * 1024 * 1024)
        rc, out, err = self.c.exec(code)
        self.assertEqual(rc, 0)
        self.assertEqual(len(out), len(data))
        self.assertTrue(out == data)
        self.assertTrue(err == data[::-1])

    def test_many_lines_arrive_in_line_sized_chunks(self):
        req = self.c.start_exec("for i in range(20000):\n    print(i)")
        timeline = []
        rc, out, _ = self.c.wait_exec(req, timeline)
        self.assertEqual(out, b"".join(b"%d\n" % i for i in range(20000)))
        for _, h, body in timeline:
            if h["t"] == "out":
                self.assertTrue(body.endswith(b"\n"))

    def test_partial_line_is_sent_before_exit_and_without_waiting_for_it(self):
        self.assertEqual(self.run_ok("print('no newline', end='')"), b"no newline")
        req = self.c.start_exec("import sys, time\nsys.stdout.write('partial')\nsys.stdout.flush()\n"
                                "time.sleep(0.5)")
        timeline = []
        rc, out, _ = self.c.wait_exec(req, timeline)
        self.assertEqual((rc, out), (0, b"partial"))
        first_out = next(t for t, h, _ in timeline if h["t"] == "out")
        exit_at = next(t for t, h, _ in timeline if h["t"] == "exit")
        self.assertGreater(exit_at - first_out, 0.3)

    def test_subprocess_output_is_captured(self):
        out = self.run_ok("import os, subprocess\n"
                          "os.system('echo from-system')\n"
                          "subprocess.run(['sh', '-c', 'echo from-sub; echo sub-err >&2'])\n")
        self.assertEqual(out, b"from-system\nfrom-sub\n")
        _, _, err = self.c.exec("import subprocess; subprocess.run('echo e2 >&2', shell=True)")
        self.assertEqual(err, b"e2\n")

    def test_binary_junk_passes_through(self):
        junk = bytes(range(256)) * 4 + b"\x00PFSYNC0123456789abcdef\x00" + b"\xff\xfe"
        rc, out, _ = self.c.exec(f"import sys; sys.stdout.buffer.write({junk!r})")
        self.assertEqual((rc, out), (0, junk))

    def test_unencodable_text_is_escaped(self):
        self.assertEqual(self.run_ok("print('\\udcff')"), b"\\udcff\n")

    def test_thread_output_during_the_call(self):
        out = self.run_ok("import threading\n"
                          "t = threading.Thread(target=lambda: print('from thread'))\n"
                          "t.start(); t.join()")
        self.assertEqual(out, b"from thread\n")

    def test_fifty_megabytes(self):
        rc, out, _ = self.c.exec(
            "import sys\nfor _ in range(50):\n    sys.stdout.write('y' * 1048575 + '\\n')")
        self.assertEqual(rc, 0)
        self.assertEqual(len(out), 50 * 1024 * 1024)


class RobustnessTest(KernelTest):
    def test_user_closes_fd_1(self):
        self.c.exec("import os; os.close(1)")
        self.assertEqual(self.run_ok("print('back')"), b"back\n")
        self.assertEqual(self.run_ok("import os; os.system('echo sys-back')"), b"sys-back\n")

    def test_user_dup2s_over_fds_1_and_2(self):
        self.c.exec("import os\nnull = os.open(os.devnull, os.O_WRONLY)\nos.dup2(null, 1)\nos.dup2(null, 2)")
        rc, out, err = self.c.exec("import sys\nprint('o')\nprint('e', file=sys.stderr)")
        self.assertEqual((rc, out, err), (0, b"o\n", b"e\n"))

    def test_user_closes_sys_stdout(self):
        self.c.exec("import sys; sys.stdout.close()")
        self.assertEqual(self.run_ok("print('reopened')"), b"reopened\n")

    def test_stdin_reads_eof(self):
        rc, _, err = self.c.exec("input()")
        self.assertEqual(rc, 1)
        self.assertIn(b"EOFError", err)

    def test_background_thread_output_after_the_call_is_not_misattributed(self):
        self.run_ok("import threading, time\n"
                    "threading.Thread(target=lambda: (time.sleep(0.3), print('late')), daemon=True).start()")
        time.sleep(0.5)
        self.assertEqual(self.run_ok("print('next')"), b"next\n")

    def test_fork_child_does_not_act_as_kernel(self):
        out = self.run_ok("import os\npid = os.fork()\nif pid == 0:\n    print('child')\nelse:\n"
                          "    os.waitpid(pid, 0)\n    print('parent')")
        self.assertIn(b"parent\n", out)
        self.assertEqual(self.run_ok("print('ok')"), b"ok\n")


class InterruptTest(KernelTest):
    def _interrupt_when_started(self, code):
        req = self.c.start_exec("print('started', flush=True)\n" + code)
        h, body = self.c.recv_for(req)
        self.assertEqual((h["t"], body), ("out", b"started\n"))
        t0 = time.monotonic()
        self.c.send({"t": "interrupt", "id": req})
        rc, _, err = self.c.wait_exec(req)
        return rc, err, time.monotonic() - t0

    def test_interrupt_busy_loop(self):
        self.run_ok("kept = 'yes'")
        rc, err, took = self._interrupt_when_started("while True:\n    pass")
        self.assertEqual(rc, 130)
        self.assertTrue(err.endswith(b"KeyboardInterrupt\n"), err)
        self.assertNotIn(b"podflare_guest", err)
        self.assertLess(took, 2)
        self.assertEqual(self.run_ok("print(kept)"), b"yes\n")

    def test_interrupt_sleep(self):
        self.run_ok("kept2 = 5")
        rc, err, took = self._interrupt_when_started("import time\ntime.sleep(100)")
        self.assertEqual(rc, 130)
        self.assertIn(b"KeyboardInterrupt", err)
        self.assertLess(took, 2)
        self.assertEqual(self.run_ok("print(kept2)"), b"5\n")

    def test_an_interrupt_the_main_thread_missed_is_sent_again(self):
        # A SIGINT that lands just before a blocking call is seen only once the call returns
        # (1 abort in 30 through hostd); here the cell ignores it outright, then blocks.
        self.run_ok("kept4 = 'yes'")
        rc, err, took = self._interrupt_when_started(
            "import signal, time\nours = signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "time.sleep(0.3)\nsignal.signal(signal.SIGINT, ours)\ntime.sleep(30)")
        self.assertEqual(rc, 130, err)
        self.assertIn(b"KeyboardInterrupt", err)
        self.assertLess(took, 3)
        self.assertEqual(self.run_ok("print(kept4)"), b"yes\n")

    def test_an_interrupt_the_code_caught_is_not_sent_again(self):
        # The code saw it and chose to go on: that is the code's call (hostd escalates).
        req = self.c.start_exec(
            "import time\ntry:\n    print('started', flush=True)\n    time.sleep(30)\n"
            "except KeyboardInterrupt:\n    time.sleep(1.0)\n    print('cleaned up')")
        h, body = self.c.recv_for(req)
        self.assertEqual((h["t"], body), ("out", b"started\n"))
        self.c.send({"t": "interrupt", "id": req})
        rc, out, err = self.c.wait_exec(req)
        self.assertEqual((rc, out, err), (0, b"cleaned up\n", b""))

    def test_interrupt_of_unknown_or_finished_job_is_ignored(self):
        req = self.c.start_exec("pass")
        self.assertEqual(self.c.wait_exec(req)[0], 0)
        self.c.send({"t": "interrupt", "id": req})
        self.c.send({"t": "interrupt", "id": 987654})
        self.assertEqual(self.run_ok("import time; time.sleep(0.2); print('fine')"), b"fine\n")

    def test_interrupt_of_a_queued_job_cancels_it(self):
        first = self.c.start_exec("import time; time.sleep(0.3)")
        second = self.c.start_exec("open('should-not-exist', 'w').close()")
        self.c.send({"t": "interrupt", "id": second})
        # Answered at once, while the first still runs (not when its turn comes).
        self.assertEqual(self.c.wait_exec(second), (130, b"", b"KeyboardInterrupt\n"))
        self.assertEqual(self.c.wait_exec(first)[0], 0)
        self.assertEqual(self.run_ok("import os; print(os.path.exists('should-not-exist'))"), b"False\n")


class OrphanTest(KernelTest):
    def test_a_running_exec_whose_connection_closed_is_interrupted_at_its_timeout(self):
        # hostd was killed: nobody else would stop the loop, and the REPL would stay busy.
        self.run_ok("kept3 = 'yes'")
        lost = self.kernel.connect()
        req = lost.start_exec("print('spinning', flush=True)\nwhile True: pass", timeout_ms=800)
        self.assertEqual(lost.recv_for(req)[0]["t"], "out")
        lost.close()
        start = time.monotonic()
        self.assertEqual(self.run_ok("print(kept3)"), b"yes\n")
        self.assertLess(time.monotonic() - start, 5)
        self.assertIn("its caller is gone and its timeout_ms passed", self.kernel.log())

    def test_without_a_timeout_a_lost_exec_completes(self):
        lost = self.kernel.connect()
        req = lost.start_exec("import time\nprint('started', flush=True)\ntime.sleep(0.3)\ndone3 = 'ran'")
        self.assertEqual(lost.recv_for(req)[0]["t"], "out")
        lost.close()
        self.assertEqual(self.run_ok("print(done3)"), b"ran\n")


class LateInterruptTest(KernelTest):
    def test_interrupt_after_the_code_returned_is_ignored(self):
        # The host does not read for a moment, so the kernel sits in its end-of-call sync
        # (code done, output not yet sent) when the interrupt arrives.
        req = self.c.start_exec("import sys; sys.stdout.write('y' * 1500000)")
        time.sleep(0.3)
        self.c.send({"t": "interrupt", "id": req})
        rc, out, err = self.c.wait_exec(req)
        self.assertEqual((rc, len(out), err), (0, 1500000, b""))
        self.assertEqual(self.run_ok("print('alive')"), b"alive\n")

    def test_interrupts_racing_short_calls(self):
        rng = random.Random(5)
        for _ in range(200):
            req = self.c.start_exec("import sys; print('x', file=sys.stderr)")
            time.sleep(rng.random() * 0.001)
            self.c.send({"t": "interrupt", "id": req})
            rc, _, err = self.c.wait_exec(req)
            self.assertIn(rc, (0, 130), err)
        self.assertEqual(self.run_ok("print('alive')"), b"alive\n")
        self.assertEqual(self.kernel.log(), "")


class EnvCwdTest(KernelTest):
    def test_env_is_set_for_the_call_and_restored(self):
        self.assertEqual(self.run_ok("import os; print(os.environ['PF_T'])", env={"PF_T": "v1"}), b"v1\n")
        self.assertEqual(self.run_ok("import os; print(os.environ.get('PF_T'))"), b"None\n")

    def test_cwd_is_set_for_the_call_and_restored(self):
        sub = os.path.join(self.kernel.work, "sub")
        os.mkdir(sub)
        start = self.run_ok("import os; print(os.getcwd())")
        self.assertEqual(self.run_ok("import os; print(os.getcwd())", cwd=sub), sub.encode() + b"\n")
        self.assertEqual(self.run_ok("import os; print(os.getcwd())"), start)
        # A chdir by the code itself persists.
        self.run_ok(f"import os; os.chdir({sub!r})")
        self.assertEqual(self.run_ok("print(os.getcwd())"), sub.encode() + b"\n")
        self.run_ok(f"os.chdir({start.decode().strip()!r})")

    def test_missing_cwd_fails_the_call_without_running_it(self):
        rc, out, err = self.c.exec("print(1)", cwd="/nonexistent-dir")
        self.assertEqual((rc, out), (1, b""))
        self.assertEqual(err, b"podflare: cannot use cwd /nonexistent-dir: No such file or directory\n")
        rc, _, err = self.c.exec("print(1)", cwd="/etc/hostname")
        self.assertEqual(rc, 1)
        self.assertIn(b"not a directory", err)


class NamespaceTest(KernelTest):
    def test_no_kernel_names_leak_into_globals_or_sys_path(self):
        out = self.run_ok("import sys\nprint(sorted(k for k in globals() if not k.startswith('__')))\n"
                          "print(any('guest' in p for p in sys.path))")
        self.assertEqual(out, b"['sys']\nFalse\n")
