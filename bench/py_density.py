"""Density through the Python SDK, the same as bench/density.mjs: COUNT idle sandboxes (a first
exec each), the memory charged to hostd's cgroup parent read from MEMORY_FILE before and after
each one. Prints one JSON object: per-sandbox increments and the total, in bytes.
Usage: py_density.py COUNT MEMORY_FILE"""
import json
import sys
import time

from podflare import Sandbox

count = int(sys.argv[1])
memory_file = sys.argv[2]


def used():
    with open(memory_file) as f:
        return int(f.read())


time.sleep(1.5)
before = used()
last = before
increments = []
sandboxes = []
try:
    for _ in range(count):
        sb = Sandbox(memory_mb=512)  # a custom size: boots cold, not from the pool
        sb.run_code("x = 1")
        sandboxes.append(sb)
        now = used()
        increments.append(now - last)
        last = now
    time.sleep(1.5)
    total = used() - before
finally:
    for sb in sandboxes:
        sb.close()
print(json.dumps({"increments": increments, "total": total}))
