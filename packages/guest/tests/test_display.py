import base64
import json
import time

from harness import KernelTest


def events(frames):
    """Frames as comparable events: ("out", fd, text), ("result", main, data), ("exc", ...)."""
    out = []
    for h, body in frames:
        if h["t"] == "out":
            out.append(("out", h["fd"], body.decode()))
        elif h["t"] == "result":
            out.append(("result", h["main"], json.loads(body)))
        elif h["t"] == "exc":
            out.append(("exc", h["name"], h["value"], h["traceback"]))
        elif h["t"] == "exit":
            out.append(("exit", h["code"]))
    return out


class LastExpressionTest(KernelTest):
    def results(self, code):
        return [e for e in events(self.c.exec_frames(code)) if e[0] == "result"]

    def test_the_last_expression_is_the_main_result_and_not_printed(self):
        ev = events(self.c.exec_frames("print('before')\n6 * 7"))
        self.assertEqual(ev, [("out", 1, "before\n"), ("result", True, {"text/plain": "42"}), ("exit", 0)])

    def test_assignments_none_and_statements_show_nothing(self):
        for code in ("x = 1", "None", "print('x')", "for i in range(2):\n    i", "import os"):
            self.assertEqual(self.results(code), [], code)

    def test_a_trailing_semicolon_suppresses(self):
        self.assertEqual(self.results("1 + 1;"), [])
        self.assertEqual(self.results("1 + 1 ;  # quiet"), [])
        self.assertEqual(self.results("'a;b'"), [("result", True, {"text/plain": "'a;b'"})])
        self.assertEqual(self.results("1  # no ; here"), [("result", True, {"text/plain": "1"})])

    def test_an_expression_after_other_statements_and_unicode(self):
        self.assertEqual(self.results("s = 'é'\ns + 'ü'"), [("result", True, {"text/plain": "'éü'"})])

    def test_repr_methods_give_their_mime_types(self):
        code = (
            "class R:\n"
            "    def _repr_html_(self): return '<b>r</b>'\n"
            "    def _repr_markdown_(self): return '**r**'\n"
            "    def _repr_svg_(self): return '<svg/>'\n"
            "    def _repr_png_(self): return b'\\x89PNG'\n"
            "    def _repr_json_(self): return {'a': 1}\n"
            "    def _repr_latex_(self): return '$r$'\n"
            "    def __repr__(self): return 'R()'\n"
            "R()")
        [(_, main, data)] = self.results(code)
        self.assertTrue(main)
        self.assertEqual(data, {
            "text/html": "<b>r</b>", "text/markdown": "**r**", "image/svg+xml": "<svg/>",
            "image/png": base64.b64encode(b"\x89PNG").decode(), "application/json": '{"a": 1}',
            "text/latex": "$r$", "text/plain": "R()",
        })

    def test_a_broken_repr_method_costs_only_its_type(self):
        code = ("class B:\n    def _repr_html_(self): raise ValueError('x')\n"
                "    def __repr__(self): return 'B'\nB()")
        self.assertEqual(self.results(code), [("result", True, {"text/plain": "B"})])

    def test_classes_are_shown_by_repr_only(self):
        code = "class C:\n    def _repr_html_(self): return 'h'\nC"
        self.assertEqual(self.results(code), [("result", True, {"text/plain": "<class '__main__.C'>"})])


class DisplayTest(KernelTest):
    def test_display_comes_after_the_output_before_it_and_is_not_main(self):
        ev = events(self.c.exec_frames("print('a')\ndisplay(1, 'two')\nprint('b')\n3"))
        self.assertEqual(ev, [
            ("out", 1, "a\n"),
            ("result", False, {"text/plain": "1"}),
            ("result", False, {"text/plain": "'two'"}),
            ("out", 1, "b\n"),
            ("result", True, {"text/plain": "3"}),
            ("exit", 0),
        ])

    def test_display_is_a_builtin_not_a_global(self):
        self.assertEqual(self.run_ok("print('display' in globals(), callable(display))"), b"False True\n")

    def test_bash_gives_no_results(self):
        self.assertEqual([e[0] for e in events(self.c.exec_frames("echo hi", lang="bash"))], ["out", "exit"])

    def test_an_oversized_result_is_dropped_with_a_message(self):
        rc, _, err = self.c.exec("class Big:\n    def __repr__(self): return 'x' * (5 * 1024 * 1024)\n"
                                 "display(Big())")
        self.assertEqual(rc, 0)
        self.assertIn(b"exceeds the limit of 4194304 bytes per result", err)


class ErrorDataTest(KernelTest):
    def test_an_exception_is_sent_as_data_after_its_traceback(self):
        ev = events(self.c.exec_frames("print('x')\n1 / 0"))
        kinds = [e[0] for e in ev]
        self.assertEqual(kinds, ["out", "out", "exc", "exit"])
        _, name, value, tb = ev[2]
        self.assertEqual((name, value), ("ZeroDivisionError", "division by zero"))
        self.assertEqual(tb, ev[1][2])  # the same text as on stderr
        self.assertIn('File "<exec>", line 2', tb)
        self.assertEqual(ev[3], ("exit", 1))

    def test_system_exit_and_success_send_no_error(self):
        for code in ("raise SystemExit(3)", "x = 1"):
            self.assertNotIn("exc", [e[0] for e in events(self.c.exec_frames(code))])


class InterruptDuringDisplayTest(KernelTest):
    def test_an_interrupt_while_a_result_is_sent_is_raised_after_it(self):
        # The host does not read for a moment, so display() sits in its output sync (as in
        # test_repl.LateInterruptTest) when the interrupt arrives: the result still goes out
        # whole, then the cell stops with KeyboardInterrupt.
        req = self.c.start_exec("import sys; sys.stdout.write('y' * 1500000)\ndisplay(1)\nprint('after')")
        time.sleep(0.3)
        self.c.send({"t": "interrupt", "id": req})
        frames = []
        while True:
            h, body = self.c.recv_for(req)
            frames.append((h, body))
            if h["t"] == "exit":
                break
        ev = events(frames)
        self.assertEqual([e for e in ev if e[0] == "result"], [("result", False, {"text/plain": "1"})])
        self.assertEqual(ev[-1], ("exit", 130))
        out = b"".join(body for h, body in frames if h["t"] == "out" and h["fd"] == 1)
        self.assertEqual(out, b"y" * 1500000)
        exc = [e for e in ev if e[0] == "exc"]
        self.assertEqual(exc[0][1], "KeyboardInterrupt")
        self.assertEqual(self.run_ok("print('alive')"), b"alive\n")
