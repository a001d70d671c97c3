"""fork(n) or Spaces through the Python SDK; prints one JSON object of raw samples (ms).
Usage: py_lifecycle.py RUNS fork|spaces"""
import json
import sys
import time

from podflare import Sandbox

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
mode = sys.argv[2] if len(sys.argv) > 2 else "fork"


def ms(t0):
    return (time.perf_counter() - t0) * 1000


def forks():
    out = {"fork1": [], "fork5": []}
    with Sandbox() as parent:
        parent.run_code("x = 41")
        for n, key in ((1, "fork1"), (5, "fork5")):
            for _ in range(runs):
                time.sleep(0.3)
                t0 = time.perf_counter()
                kids = parent.fork(n)
                out[key].append(ms(t0))
                assert kids[0].run_code("print(x + 1)").stdout == "42\n"
                for k in kids:
                    k.close()
    return out


def spaces():
    out = {"freeze10": [], "resume10": []}
    for _ in range(runs):
        sb = Sandbox(persistent=True)
        sb.run_code("state = [bytes(1024 * 1024) for _ in range(10)]")
        t0 = time.perf_counter()
        space = sb.freeze()
        out["freeze10"].append(ms(t0))
        t0 = time.perf_counter()
        back = Sandbox.resume(space)
        out["resume10"].append(ms(t0))
        assert back.run_code("print(len(state))").stdout == "10\n"
        back.close()
    return out


print(json.dumps(forks() if mode == "fork" else spaces()))
