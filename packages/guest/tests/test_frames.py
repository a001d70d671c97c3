import struct
import unittest

import harness  # noqa: F401  (puts the package on sys.path)
from podflare_guest import frames


class FramesTest(unittest.TestCase):
    def test_layout_matches_frames_ts(self):
        # encodeFrame({t: "out", id: 1, fd: 2}, Buffer.from("hi")) in frames.ts
        head = b'{"t":"out","id":1,"fd":2}'
        expected = struct.pack(">II", 4 + len(head) + 2, len(head)) + head + b"hi"
        self.assertEqual(frames.encode({"t": "out", "id": 1, "fd": 2}, b"hi"), expected)

    def test_round_trip_fed_byte_by_byte(self):
        data = (frames.encode({"t": "a", "id": 1}, b"\x00\xff" * 10)
                + frames.encode({"t": "b", "id": 2, "path": "é/\u2603"})
                + frames.encode({"t": "c", "id": 3}, b"x"))
        d = frames.Decoder()
        got = []
        for i in range(len(data)):
            got += d.push(data[i:i + 1])
        self.assertEqual(got, [({"t": "a", "id": 1}, b"\x00\xff" * 10),
                               ({"t": "b", "id": 2, "path": "é/\u2603"}, b""),
                               ({"t": "c", "id": 3}, b"x")])
        self.assertEqual(d.buffered, 0)

    def test_odd_names_encode(self):
        name = b"\xff.bin".decode("utf-8", "surrogateescape")
        h, _ = frames.Decoder().push(frames.encode({"t": "dir", "name": name}))[0]
        self.assertEqual(h["name"], name)

    def test_oversize_is_refused_both_ways(self):
        with self.assertRaises(frames.FrameError):
            frames.Decoder().push(struct.pack(">I", frames.FRAME_MAX_BYTES + 1))
        with self.assertRaises(ValueError):
            frames.encode({"t": "data"}, b"x" * frames.FRAME_MAX_BYTES)
        frames.encode({"t": "data"}, b"x" * (frames.FRAME_MAX_BYTES - 100))

    def test_malformed_frames(self):
        bad = [
            struct.pack(">I", 3),  # shorter than its header length field
            struct.pack(">II", 8, 5) + b"{}{}",  # header longer than the frame
            struct.pack(">II", 4 + 3, 3) + b"{x}",  # not JSON
            struct.pack(">II", 4 + 2, 2) + b"[]",  # not an object
            struct.pack(">II", 4 + 8, 8) + b'{"t": 1}',  # t not a string
            struct.pack(">II", 4 + 2, 2) + b"\xff\xfe",  # not UTF-8
        ]
        for data in bad:
            with self.assertRaises(frames.FrameError, msg=data):
                frames.Decoder().push(data)


if __name__ == "__main__":
    unittest.main()
