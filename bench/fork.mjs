// fork(n) figures (issue 3): end-to-end fork for n = 1, 2, 5, 16, 32, on a fresh sandbox and on
// one holding a 500 MB heap, through the TypeScript SDK and then the Python SDK (bench/py_fork.py);
// memory added per child right after fork (host-wide and charged to hostd's cgroup); and side by side, through the same SDK, the
// baseline an agent would use without fork: create a new sandbox and re-run the setup code.
// Usage: PODFLARE_HOSTD_URL=http://127.0.0.1:7070 node bench/fork.mjs
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { knobs } from "./knobs.mjs";
import { cgroupMemoryFile, hostUsedBytes, readBytes } from "./memory.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const { forkRuns: runs, forkSizes: sizes } = knobs;
const MB = 1024 * 1024;
const SETUPS = {
  fresh: "x = 41",
  "500 MB heap": "import os\nheap = bytearray(os.urandom(1024 * 1024) * 500)\nx = 41",
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const memoryLine = (label, sdk, n, host, cgroup) => {
  const h = summarize(host);
  const c = summarize(cgroup);
  return `${label}: fork(${n}), ${sdk}, memory added per child — host: p50 ${h.p50.toFixed(1)} MB, max ${h.max.toFixed(1)} MB; ` +
    `hostd's cgroup: p50 ${c.p50.toFixed(1)} MB, max ${c.max.toFixed(1)} MB`;
};

async function tsForks(rows, baselines, memory) {
  const cgFile = cgroupMemoryFile();
  for (const [label, setup] of Object.entries(SETUPS)) {
    const memoryMb = label === "fresh" ? undefined : 2048;
    const baseline = [];
    for (let i = 0; i < runs; i++) {
      let s;
      baseline.push(await time(async () => {
        s = await Sandbox.create(memoryMb ? { memoryMb } : {});
        await s.runCode(setup);
      }));
      await s.close();
    }
    const base = { name: `${label}: create + setup (one sandbox), TS SDK`, stats: summarize(baseline), samples: baseline };
    baselines.push(base);
    const parent = await Sandbox.create(memoryMb ? { memoryMb } : {});
    await parent.runCode(setup);
    for (const n of sizes) {
      const samples = [];
      const perChild = [];
      const perChildCg = [];
      for (let i = 0; i < runs; i++) {
        await sleep(400); // let the previous run's children go before measuring memory
        const before = hostUsedBytes();
        const beforeCg = readBytes(cgFile);
        let kids = [];
        samples.push(await time(async () => (kids = await parent.fork(n))));
        perChild.push((hostUsedBytes() - before) / n / MB);
        perChildCg.push((readBytes(cgFile) - beforeCg) / n / MB);
        const check = await kids[0].runCode("print(x + 1)");
        if (check.stdout !== "42\n") throw new Error(`child lost its state: ${check.stdout}${check.stderr}`);
        await Promise.all(kids.map((k) => k.close()));
      }
      rows.push({ name: `${label}: fork(${n}), TS SDK`, stats: summarize(samples), samples, baseline: base });
      memory.push(memoryLine(label, "TS SDK", n, perChild, perChildCg));
    }
    await parent.close();
  }
}

function pyForks(rows, baselines, memory) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const py = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_fork.py"), String(runs), sizes.join(","), cgroupMemoryFile()], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
    timeout: 1_800_000,
  });
  if (py.status !== 0) throw new Error(`python fork bench failed: ${py.stderr}`);
  const out = JSON.parse(py.stdout.trim().split("\n").pop());
  for (const label of Object.keys(SETUPS)) {
    const res = out[label];
    const base = { name: `${label}: create + setup (one sandbox), Python SDK`, stats: summarize(res.baseline), samples: res.baseline };
    baselines.push(base);
    for (const n of sizes) {
      const samples = res.fork[String(n)];
      rows.push({ name: `${label}: fork(${n}), Python SDK`, stats: summarize(samples), samples, baseline: base });
      memory.push(memoryLine(label, "Python SDK", n, res.mb_per_child[String(n)], res.mb_per_child_cgroup[String(n)]));
    }
  }
}

export async function runFork() {
  const rows = [];
  const baselines = [];
  const memory = [];
  await tsForks(rows, baselines, memory);
  pyForks(rows, baselines, memory);
  printTable(`fork(n) end to end through the TypeScript SDK, then the Python SDK (${runs} runs each; hosted Podflare publishes fork(5) ~100 ms server-side, for reference only)`, rows);
  console.log("");
  for (const line of memory) console.log(line);
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline.name })),
    baselines,
    memory_per_child: memory,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runFork();
