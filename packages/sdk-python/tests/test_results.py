import unittest

from podflare import ExecError, Result
from podflare.contexts import Context, context_id
from podflare.errors import ProtocolError
from podflare.events import to_exec_event


class RichEventsTest(unittest.TestCase):
    def test_result_events_carry_a_result(self):
        ev = to_exec_event({"type": "result", "data": {"text/plain": "1", "image/png": "UE5H"},
                            "is_main_result": True, "seq": 2, "ts": 3})
        self.assertEqual((ev.type, ev.seq, ev.ts), ("result", 2, 3))
        self.assertEqual(ev.result, Result({"text/plain": "1", "image/png": "UE5H"}, True))
        self.assertEqual(ev.data, {"text/plain": "1", "image/png": "UE5H"})
        self.assertEqual((ev.result.text, ev.result.png, ev.result.html), ("1", "UE5H", None))

    def test_error_events_carry_an_error(self):
        ev = to_exec_event({"type": "error", "name": "E", "value": "v", "traceback": "tb", "seq": 1, "ts": 1})
        self.assertEqual(ev.error, ExecError("E", "v", "tb"))
        self.assertEqual(ev.data, "v")

    def test_bad_result_data_is_a_protocol_error(self):
        for data in ("x", {"text/plain": 1}, None):
            with self.assertRaises(ProtocolError):
                to_exec_event({"type": "result", "data": data})

    def test_result_getters_and_json(self):
        r = Result({"application/json": '{"a": 1}', "text/latex": "$x$", "text/markdown": "*m*"})
        self.assertEqual((r.json, r.latex, r.markdown, r.is_main_result), ({"a": 1}, "$x$", "*m*", False))
        self.assertEqual(r.formats(), ["application/json", "text/latex", "text/markdown"])

    def test_context_ids(self):
        self.assertEqual(context_id("ctx_1"), "ctx_1")
        self.assertEqual(context_id(Context("ctx_2", "python", "/tmp")), "ctx_2")


if __name__ == "__main__":
    unittest.main()
