# Python code is dedented before it runs (Podflare's docs pass indented triple-quoted
# strings); bash is not. Line numbers in tracebacks stay the user's.

import textwrap
import unittest

from harness import KernelTest  # noqa: F401 - puts podflare_guest on sys.path
from podflare_guest.dedent import dedent


class DedentFunctionTest(unittest.TestCase):
    def test_matches_textwrap_on_the_documented_shapes(self):
        shapes = [
            "\n    import json\n    x = {'a': 1}\n    print(json.dumps(x))\n",
            "\tif True:\n\t\tprint(1)\n",
            "    a = 1\n  \n\n    b = 2   \n",
            "      first = 1\n    second = 2\n",
            "\n        def f():\n            return 1\n        print(f())\n    ",
        ]
        for s in shapes:
            self.assertEqual(dedent(s), textwrap.dedent(s), repr(s))

    def test_keeps_the_line_count(self):
        s = "\n\n    x = 1\n   \n    y = 2\n"
        self.assertEqual(dedent(s).count("\n"), s.count("\n"))

    def test_code_without_common_indent_is_untouched(self):
        for s in ["x = '''\n   \n'''\n", "if 1:\n    pass\n", "a\r\n  b\r\n", "   \n  ", ""]:
            self.assertEqual(dedent(s), s, repr(s))

    def test_crlf_line_ends_are_kept(self):
        self.assertEqual(dedent("  a = 1\r\n  b = 2\r\n"), "a = 1\r\nb = 2\r\n")

    def test_tabs_and_spaces_share_no_margin(self):
        s = "\tx = 1\n    y = 2\n"
        self.assertEqual(dedent(s), s)


class DedentedRunTest(KernelTest):
    def test_documented_shape_with_a_first_blank_line(self):
        out = self.run_ok('\n    import json\n    cfg = {"temp": 0.7}\n    print(json.dumps(cfg))\n')
        self.assertEqual(out, b'{"temp": 0.7}\n')

    def test_tabs(self):
        self.assertEqual(self.run_ok("\tfor i in range(2):\n\t\tprint(i)\n"), b"0\n1\n")

    def test_blank_lines_with_trailing_spaces(self):
        code = "\n        a = 1\n   \n\n        \n        b = 2   \n        print(a + b)\n    "
        self.assertEqual(self.run_ok(code), b"3\n")

    def test_first_line_more_indented_is_still_an_indentation_error(self):
        rc, _, err = self.c.exec("        x = 1\n    y = 2\n")
        self.assertEqual(rc, 1)
        self.assertIn(b"IndentationError", err)

    def test_traceback_line_is_the_users_line(self):
        code = "\n    a = 1\n\n    b = 0\n    print(a / b)\n"
        rc, _, err = self.c.exec(code)
        self.assertEqual(rc, 1)
        self.assertIn(b'File "<exec>", line 5, in <module>', err)
        self.assertIn(b"print(a / b)", err)
        self.assertTrue(err.endswith(b"ZeroDivisionError: division by zero\n"), err)

    def test_string_literal_of_unindented_code_keeps_its_spaces(self):
        self.assertEqual(self.run_ok("s = '''\n   \n'''\nprint(repr(s))"), b"'\\n   \\n'\n")

    def test_bash_runs_as_given(self):
        # Dedented, the heredoc's terminator would match and print "done"; as given it does not.
        code = "  cat <<EOF\n  kept\n  EOF\nEOF\n  echo done"
        rc, out, _ = self.c.exec(code, "bash")
        self.assertEqual(rc, 0)
        self.assertEqual(out, b"  kept\n  EOF\ndone\n")
