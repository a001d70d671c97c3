"""Lifecycle scenarios through the Python SDK, the same as bench/lifecycle.mjs: freeze and resume
of a Space holding 10 MB and 100 MB of REPL state, the baseline (a fresh sandbox re-running the
setup), and in-memory pause / resume. Prints one JSON object of raw samples (ms).
Usage: py_lifecycle.py RUNS PAUSE_RUNS"""
import json
import sys
import time

from podflare import Sandbox

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
pause_runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def ms(t0):
    return (time.perf_counter() - t0) * 1000


out = {}
for mb in (10, 100):
    setup = f"state = [bytes(1024 * 1024) for _ in range({mb})]"
    freeze, resume, rebuild = [], [], []
    for _ in range(runs):
        sb = Sandbox(persistent=True)
        sb.run_code(setup)
        t0 = time.perf_counter()
        space = sb.freeze()
        freeze.append(ms(t0))
        t0 = time.perf_counter()
        back = Sandbox.resume(space)
        resume.append(ms(t0))
        r = back.run_code("print(len(state))")
        assert r.stdout == f"{mb}\n", f"resume lost the state: {r.stdout}{r.stderr}"
        back.close()
        t0 = time.perf_counter()
        fresh = Sandbox(memory_mb=512)
        fresh.run_code(setup)
        fresh.close()
        rebuild.append(ms(t0))
    out[str(mb)] = {"freeze": freeze, "resume": resume, "rebuild": rebuild}

pause, resume_mem = [], []
with Sandbox() as sb:
    for _ in range(pause_runs):
        t0 = time.perf_counter()
        sb.pause()
        pause.append(ms(t0))
        t0 = time.perf_counter()
        sb.resume()
        resume_mem.append(ms(t0))
out["pause"] = pause
out["resume_paused"] = resume_mem
print(json.dumps(out))
