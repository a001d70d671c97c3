"""The Python side of tests/conformance/frames.test.ts: runs the frame cases through the
guest's codec (packages/guest/podflare_guest/frames.py) and the jail's (packages/hostd/jail/
fork.py), and decodes the TypeScript codec's bytes with both.

stdin: {"cases": [{"name", "header", "body": base64}], "ts": {name: base64 of TS bytes}}
stdout: {name: {"guest": ..., "fork": ..., "guest_decoded": ..., "fork_decoded": ...},
         "_constants": {the Python codecs' limits and version}}
"""

import base64
import hashlib
import json
import os
import socket
import sys
import threading

root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "packages/guest"))
sys.path.insert(0, os.path.join(root, "packages/hostd/jail"))

from podflare_guest import frames as guest  # noqa: E402
import fork  # noqa: E402

CHUNK = 4093  # odd, so frames straddle pushes


def b64(data):
    return base64.b64encode(data).decode("ascii")


def attempt(fn):
    try:
        return {"bytes": b64(fn())}
    except Exception as e:  # noqa: BLE001 — the test compares which codecs refuse
        return {"error": f"{type(e).__name__}: {e}"}


def guest_decode(data):
    """Whole, then in odd chunks: both must give the same one frame."""
    try:
        whole = guest.Decoder().push(data)
        dec = guest.Decoder()
        pieces = []
        for i in range(0, len(data), CHUNK):
            pieces += dec.push(data[i:i + CHUNK])
        if [(h, b) for h, b in whole] != [(h, b) for h, b in pieces] or dec.buffered:
            return {"error": "chunked decode differs from whole decode"}
        return [{"header": h, "body_sha256": hashlib.sha256(b).hexdigest()} for h, b in whole]
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"}


def fork_decode(data):
    """fork.py reads frames off a socket; it keeps the header and skips the body."""
    a, b = socket.socketpair()
    try:
        writer = threading.Thread(target=lambda: (a.sendall(data), a.shutdown(socket.SHUT_WR)))
        writer.start()
        b.settimeout(10)
        try:
            return [fork.FrameReader(b).next()]
        except Exception as e:  # noqa: BLE001
            return {"error": f"{type(e).__name__}: {e}"}
        finally:
            b.close()
            writer.join()
    finally:
        a.close()


def main():
    req = json.load(sys.stdin)
    out = {}
    for case in req["cases"]:
        header, body = case["header"], base64.b64decode(case["body"])
        ts_bytes = base64.b64decode(req["ts"][case["name"]]) if case["name"] in req["ts"] else None
        out[case["name"]] = {
            "guest": attempt(lambda: guest.encode(header, body)),
            # fork.py's frames carry no body (descriptors travel beside them).
            "fork": attempt(lambda: fork.encode(header)) if not body else None,
            "guest_decoded": guest_decode(ts_bytes) if ts_bytes is not None else None,
            "fork_decoded": fork_decode(ts_bytes) if ts_bytes is not None else None,
        }
    out["_constants"] = {"guest_max": guest.FRAME_MAX_BYTES, "fork_max": fork.FRAME_MAX_BYTES,
                         "guest_chunk": guest.FILE_CHUNK_BYTES, "guest_version": guest.GUEST_PROTOCOL_VERSION}
    json.dump(out, sys.stdout)


main()
