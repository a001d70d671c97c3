// 20 concurrent clients, each doing create → `echo ready` (bash) → close in a loop: latency of
// every cycle and total throughput, through the TypeScript SDK (in this process) and the
// Python SDK (threads in one python3 process).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { bwrapConcurrent } from "./baselines.mjs";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { clients, cyclesEach } = knobs;

const PY = `
import json, sys, threading, time
from podflare import Sandbox
clients, cycles = int(sys.argv[1]), int(sys.argv[2])
samples, lock = [], threading.Lock()
errors = []
def client():
    for _ in range(cycles):
        t0 = time.perf_counter()
        try:
            with Sandbox() as sb:
                r = sb.run_code("echo ready", language="bash")
            assert r.stdout == "ready\\n", r.stdout
        except Exception as e:  # counted and reported, so one failure does not lose the figure
            with lock:
                errors.append(repr(e))
            continue
        with lock:
            samples.append((time.perf_counter() - t0) * 1000)
t0 = time.perf_counter()
threads = [threading.Thread(target=client) for _ in range(clients)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"samples": samples, "errors": errors, "wall_ms": (time.perf_counter() - t0) * 1000}))
`;

export async function runConcurrency() {
  const ts = [];
  const tsErrors = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < cyclesEach; i++) {
        try {
          ts.push(await time(async () => {
            const sb = await Sandbox.create();
            try {
              const r = await sb.runCode("echo ready", "bash");
              if (r.stdout !== "ready\n") throw new Error(r.stdout + r.stderr);
            } finally {
              await sb.close();
            }
          }));
        } catch (err) {
          tsErrors.push(String(err)); // counted and reported, so one failure does not lose the figure
        }
      }
    }),
  );
  const tsWall = performance.now() - t0;
  const r = spawnSync("/usr/bin/python3", ["-c", PY, String(clients), String(cyclesEach)], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`python clients failed: ${r.stderr}`);
  const py = JSON.parse(r.stdout.trim().split("\n").pop());
  const bwrapSamples = await bwrapConcurrent(clients, cyclesEach);
  const base = bwrapSamples && { name: `${clients} concurrent bwrap python3 per call`, stats: summarize(bwrapSamples), samples: bwrapSamples };
  const rows = [
    { name: `${clients} clients × ${cyclesEach} cycles, TS SDK`, stats: summarize(ts), samples: ts, baseline: base },
    { name: `${clients} clients × ${cyclesEach} cycles, Python SDK`, stats: summarize(py.samples), samples: py.samples, baseline: base },
  ];
  printTable(`concurrency: create → echo ready → close (throughput: TS ${((ts.length / tsWall) * 1000).toFixed(1)}/s, Python ${((py.samples.length / py.wall_ms) * 1000).toFixed(1)}/s)`, rows);
  const failedCycles = { ts: tsErrors, python: py.errors };
  for (const [sdk, errs] of Object.entries(failedCycles)) {
    if (errs.length) console.log(`FAILED CYCLES, ${sdk}: ${errs.length} of ${clients * cyclesEach}, first: ${errs[0]}`);
  }
  return {
    rows: rows.map((x) => ({ ...x, baseline: x.baseline?.name ?? null })),
    baselines: base ? [base] : [],
    throughput_per_s: { ts: (ts.length / tsWall) * 1000, python: (py.samples.length / py.wall_ms) * 1000 },
    failed_cycles: { ts: tsErrors.length, python: py.errors.length, first: tsErrors[0] ?? py.errors[0] ?? null },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runConcurrency();
