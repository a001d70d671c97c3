# Host <-> guest frame codec, mirroring packages/protocol/src/frames.ts.
#
# A frame is: u32 BE length of the rest | u32 BE header length | header (UTF-8 JSON) | body.
# Raw bytes (output, file data) travel in the body so they never go through JSON.

import json
import struct

FRAME_MAX_BYTES = 8 * 1024 * 1024
FILE_CHUNK_BYTES = 1024 * 1024
GUEST_PROTOCOL_VERSION = 1

_U32 = struct.Struct(">I")
_U32x2 = struct.Struct(">II")


class FrameError(Exception):
    """The peer sent something that is not a valid frame; drop the connection."""


def encode(header, body=b""):
    # ensure_ascii keeps odd file names (lone surrogates from undecodable bytes) encodable.
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    total = 4 + len(head) + len(body)
    if total > FRAME_MAX_BYTES:
        raise ValueError(f"frame of {total} bytes exceeds {FRAME_MAX_BYTES}")
    return b"".join((_U32x2.pack(total, len(head)), head, body))


class Decoder:
    """Incremental decoder: push socket bytes, get (header, body) pairs."""

    def __init__(self):
        self._buf = bytearray()

    def push(self, data):
        buf = self._buf
        buf += data
        frames = []
        off = 0
        while len(buf) - off >= 4:
            (total,) = _U32.unpack_from(buf, off)
            if total > FRAME_MAX_BYTES or total < 4:
                raise FrameError(f"bad frame length {total}")
            if len(buf) - off - 4 < total:
                break
            (head_len,) = _U32.unpack_from(buf, off + 4)
            if head_len > total - 4:
                raise FrameError(f"bad frame header length {head_len}")
            start = off + 8
            try:
                header = json.loads(bytes(buf[start:start + head_len]).decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise FrameError(f"bad frame header: {e}") from None
            if not isinstance(header, dict) or not isinstance(header.get("t"), str):
                raise FrameError("frame header is not an object with a string 't'")
            frames.append((header, bytes(buf[start + head_len:off + 4 + total])))
            off += 4 + total
        if off:
            del buf[:off]
        return frames

    def take_buffered(self):
        """The bytes not decoded yet; the decoder is empty afterwards."""
        rest = bytes(self._buf)
        self._buf.clear()
        return rest

    @property
    def buffered(self):
        return len(self._buf)
