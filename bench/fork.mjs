// fork(n) figures (issue 3): end-to-end fork through the TypeScript SDK for n = 1, 2, 5, 16,
// 32, on a fresh sandbox and on one holding a 500 MB heap; host memory added per child right
// after fork; and side by side the baseline an agent would use without fork: create a new
// sandbox and re-run the setup code that built the state.
// Usage: PODFLARE_HOSTD_URL=http://127.0.0.1:7070 node bench/fork.mjs [runs] [n,n,...]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { printTable, summarize, time } from "./stats.mjs";

const runs = Number(process.env.PODFLARE_BENCH_FORK_RUNS ?? 20);
const sizes = (process.env.PODFLARE_BENCH_FORK_SIZES ?? "1,2,5,16,32").split(",").map(Number);
const MB = 1024 * 1024;
const SETUPS = {
  fresh: "x = 41",
  "500 MB heap": "import os\nheap = bytearray(os.urandom(1024 * 1024) * 500)\nx = 41",
};

function hostUsedBytes() {
  const text = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) * 1024;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function runFork() {
  const rows = [];
  const baselines = [];
  const memory = [];
  for (const [label, setup] of Object.entries(SETUPS)) {
    const memoryMb = label === "fresh" ? undefined : 2048;
    // Baseline: a new sandbox plus the setup code, ready to answer (what fork replaces).
    const baseline = [];
    for (let i = 0; i < runs; i++) {
      let s;
      baseline.push(await time(async () => {
        s = await Sandbox.create(memoryMb ? { memoryMb } : {});
        await s.runCode(setup);
      }));
      await s.close();
    }
    const base = { name: `${label}: create + setup (one sandbox)`, stats: summarize(baseline), samples: baseline };
    baselines.push(base);
    const parent = await Sandbox.create(memoryMb ? { memoryMb } : {});
    await parent.runCode(setup);
    for (const n of sizes) {
      const samples = [];
      const perChild = [];
      for (let i = 0; i < runs; i++) {
        await sleep(400); // let the previous run's children go before measuring memory
        const before = hostUsedBytes();
        let kids = [];
        samples.push(await time(async () => (kids = await parent.fork(n))));
        perChild.push((hostUsedBytes() - before) / n / MB);
        const check = await kids[0].runCode("print(x + 1)");
        if (check.stdout !== "42\n") throw new Error(`child lost its state: ${check.stdout}${check.stderr}`);
        await Promise.all(kids.map((k) => k.close()));
      }
      rows.push({ name: `${label}: fork(${n})`, stats: summarize(samples), samples, baseline: base });
      const m = summarize(perChild);
      memory.push(`${label}: fork(${n}) host memory added per child: p50 ${m.p50.toFixed(1)} MB, max ${m.max.toFixed(1)} MB`);
    }
    await parent.close();
  }
  // The same through the Python SDK: fork(1) and fork(5) of a fresh sandbox.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const py = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_lifecycle.py"), String(runs), "fork"], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
    timeout: 900_000,
  });
  if (py.status !== 0) throw new Error(`python fork bench failed: ${py.stderr}`);
  const pySamples = JSON.parse(py.stdout.trim().split("\n").pop());
  const freshBase = baselines[0];
  rows.push({ name: "fresh: fork(1), Python SDK", stats: summarize(pySamples.fork1), samples: pySamples.fork1, baseline: freshBase });
  rows.push({ name: "fresh: fork(5), Python SDK", stats: summarize(pySamples.fork5), samples: pySamples.fork5, baseline: freshBase });
  printTable(`fork(n) end to end through the TypeScript SDK, then the Python SDK (${runs} runs each)`, rows);
  console.log("");
  for (const line of memory) console.log(line);
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline.name })),
    baselines,
    memory_per_child: memory,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runFork();
