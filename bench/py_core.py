"""Core scenarios through the Python SDK; prints one JSON object of raw samples (ms).
Usage: py_core.py RUNS CREATE_RUNS"""
import json
import os
import sys
import time
import urllib.request

from podflare import Sandbox

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
create_runs = int(sys.argv[2]) if len(sys.argv) > 2 else max(20, runs // 5)
url = os.environ.get("PODFLARE_HOSTD_URL", "http://127.0.0.1:7070")


def ms(t0):
    return (time.perf_counter() - t0) * 1000


def pool_full():
    """Waits until the warm pool is full, so a create measures a pool hit (read with
    PODFLARE_ADMIN_KEY against a hostd with keys)."""
    admin = os.environ.get("PODFLARE_ADMIN_KEY")
    headers = {"Authorization": f"Bearer {admin}"} if admin else {}
    for _ in range(4000):
        cap = json.load(urllib.request.urlopen(urllib.request.Request(url + "/v1/capacity", headers=headers)))
        if cap["pool"]["free"] >= cap["pool"]["size"]:
            return
        time.sleep(0.05)


out = {"hot_exec": [], "create": [], "create_miss": [], "cycle": []}
with Sandbox() as sb:
    sb.run_code("print(6*7)")
    for _ in range(runs):
        t0 = time.perf_counter()
        r = sb.run_code("print(6*7)")
        out["hot_exec"].append(ms(t0))
        assert r.stdout == "42\n", r.stdout
for _ in range(create_runs):
    pool_full()
    t0 = time.perf_counter()
    sb = Sandbox()
    out["create"].append(ms(t0))
    sb.close()
for _ in range(create_runs):
    # A custom size is never pooled: it boots cold.
    t0 = time.perf_counter()
    sb = Sandbox(memory_mb=512)
    out["create_miss"].append(ms(t0))
    sb.close()
pool_full()  # the seed's shape starts from a warm pool
for _ in range(runs):
    t0 = time.perf_counter()
    sb = Sandbox()
    r = sb.run_code("echo ready", language="bash")
    sb.close()
    out["cycle"].append(ms(t0))
    assert r.stdout == "ready\n", r.stdout
print(json.dumps(out))
