"""fork(n) through the Python SDK, the same scenarios as bench/fork.mjs: for each setup (a fresh
sandbox, a 500 MB heap), the baseline (create + re-run the setup) and fork(n) for every n, with
memory added per child right after fork (host-wide and charged to hostd's cgroup). Prints one
JSON object (ms, MB).
Usage: py_fork.py RUNS N,N,... CGROUP_MEMORY_FILE"""
import json
import re
import sys
import time

from podflare import Sandbox

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
sizes = [int(n) for n in (sys.argv[2] if len(sys.argv) > 2 else "1,2,5,16,32").split(",")]
cgroup_file = sys.argv[3]
SETUPS = {
    "fresh": ("x = 41", None),
    "500 MB heap": ("import os\nheap = bytearray(os.urandom(1024 * 1024) * 500)\nx = 41", 2048),
}


def ms(t0):
    return (time.perf_counter() - t0) * 1000


def host_used_bytes():
    text = open("/proc/meminfo").read()

    def kb(k):
        return int(re.search(rf"^{k}:\s+(\d+)", text, re.M).group(1))

    return (kb("MemTotal") - kb("MemAvailable")) * 1024


def cgroup_bytes():
    with open(cgroup_file) as f:
        return int(f.read())


out = {}
for label, (setup, memory_mb) in SETUPS.items():
    res = {"baseline": [], "fork": {}, "mb_per_child": {}, "mb_per_child_cgroup": {}}
    for _ in range(runs):
        t0 = time.perf_counter()
        s = Sandbox(memory_mb=memory_mb)
        s.run_code(setup)
        res["baseline"].append(ms(t0))
        s.close()
    with Sandbox(memory_mb=memory_mb) as parent:
        parent.run_code(setup)
        for n in sizes:
            samples, per_child, per_child_cg = [], [], []
            for _ in range(runs):
                time.sleep(0.4)  # let the previous run's children go before measuring memory
                before = host_used_bytes()
                before_cg = cgroup_bytes()
                t0 = time.perf_counter()
                kids = parent.fork(n)
                samples.append(ms(t0))
                per_child.append((host_used_bytes() - before) / n / 2**20)
                per_child_cg.append((cgroup_bytes() - before_cg) / n / 2**20)
                r = kids[0].run_code("print(x + 1)")
                assert r.stdout == "42\n", f"child lost its state: {r.stdout}{r.stderr}"
                for k in kids:
                    k.close()
            res["fork"][str(n)] = samples
            res["mb_per_child"][str(n)] = per_child
            res["mb_per_child_cgroup"][str(n)] = per_child_cg
    out[label] = res
print(json.dumps(out))
