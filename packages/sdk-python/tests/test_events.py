import json
import unittest

from podflare.errors import ProtocolError
from podflare.events import ExecEvent, ExecResult, NdjsonDecoder, to_exec_event

EVENTS = [
    {"type": "stdout", "data": "héllo wörld ✓ 🎉\n", "seq": 0, "ts": 1},
    {"type": "stderr", "data": 'warn: "quoted" \\ backslash\n', "seq": 1, "ts": 2},
    {"type": "stdout", "data": "no newline at the end", "seq": 2, "ts": 3},
    {"type": "exit", "data": 0, "seq": 3, "ts": 4},
]
WIRE = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in EVENTS).encode()


class DecoderTest(unittest.TestCase):
    def test_every_split_point_including_inside_multibyte_characters(self):
        for cut in range(len(WIRE) + 1):
            dec = NdjsonDecoder()
            out = dec.push(WIRE[:cut]) + dec.push(WIRE[cut:]) + dec.end()
            self.assertEqual(out, EVENTS, f"cut at {cut}")

    def test_one_byte_at_a_time(self):
        dec = NdjsonDecoder()
        out = []
        for i in range(len(WIRE)):
            out += dec.push(WIRE[i:i + 1])
        self.assertEqual(out + dec.end(), EVENTS)

    def test_last_line_without_newline_and_blank_lines(self):
        dec = NdjsonDecoder()
        self.assertEqual(dec.push(b'\n{"a":1}\n\n{"a":2}'), [{"a": 1}])
        self.assertEqual(dec.end(), [{"a": 2}])
        self.assertEqual(dec.end(), [])

    def test_not_json_is_a_protocol_error(self):
        with self.assertRaises(ProtocolError):
            NdjsonDecoder().push(b"<html>oops</html>\n")


class EventTest(unittest.TestCase):
    def test_shapes(self):
        self.assertEqual(to_exec_event({"type": "exit", "data": 3, "seq": 9, "ts": 10}),
                         ExecEvent("exit", 3, 9, 10))
        self.assertIsNone(to_exec_event({"type": "progress", "data": 0.5}))
        for bad in ({"type": "stdout", "data": 5}, {"type": "exit", "data": "0"},
                    {"type": "exit", "data": True}, 42):
            with self.assertRaises(ProtocolError):
                to_exec_event(bad)

    def test_result_text_is_stdout(self):
        r = ExecResult("out\n", "err\n", 0)
        self.assertEqual(r.text, "out\n")


if __name__ == "__main__":
    unittest.main()
