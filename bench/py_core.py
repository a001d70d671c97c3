"""Core scenarios through the Python SDK; prints one JSON object of raw samples (ms)."""
import json
import os
import sys
import time

from podflare import Sandbox

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def ms(t0):
    return (time.perf_counter() - t0) * 1000


out = {"hot_exec": [], "create": [], "cycle": []}
with Sandbox() as sb:
    sb.run_code("print(6*7)")
    for _ in range(runs):
        t0 = time.perf_counter()
        r = sb.run_code("print(6*7)")
        out["hot_exec"].append(ms(t0))
        assert r.stdout == "42\n", r.stdout
def pool_full():
    import urllib.request
    url = os.environ.get("PODFLARE_HOSTD_URL", "http://127.0.0.1:7070")
    for _ in range(600):
        cap = json.load(urllib.request.urlopen(url + "/v1/capacity"))
        if cap["pool"]["free"] >= cap["pool"]["size"]:
            return
        time.sleep(0.05)


for _ in range(max(20, runs // 5)):
    pool_full()
    t0 = time.perf_counter()
    sb = Sandbox()
    out["create"].append(ms(t0))
    sb.close()
for _ in range(runs):
    t0 = time.perf_counter()
    sb = Sandbox()
    r = sb.run_code("echo ready", language="bash")
    sb.close()
    out["cycle"].append(ms(t0))
    assert r.stdout == "ready\n"
print(json.dumps(out))
