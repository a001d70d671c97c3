// Density: what an idle sandbox costs in host memory, and so how many fit in 8 GB, through the
// TypeScript SDK and then the Python SDK (bench/py_density.py). Creates idle sandboxes (a first
// exec each, so the REPL is warm) and reads the memory charged to hostd's cgroup parent (every
// sandbox, its init and family init) before and after each: the kernel's own accounting, not
// the host-wide free memory, which page-cache reclaim blurs. The distribution is of the
// per-sandbox increments; the headline figure is the total over the count after a settle.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { bwrapIdleMemoryBytes } from "./baselines.mjs";
import { knobs } from "./knobs.mjs";
import { cgroupMemoryFile, readBytes } from "./memory.mjs";
import { printTable, summarize } from "./stats.mjs";

const count = knobs.densityCount;
const MB = 1024 ** 2;
const GB8 = 8 * 1024 ** 3;
const settle = () => new Promise((r) => setTimeout(r, 1500));

/** Waits until the warm pool is full again. */
async function poolFull() {
  const url = process.env.PODFLARE_HOSTD_URL ?? "http://127.0.0.1:7070";
  for (let i = 0; i < 4000; i++) {
    const cap = await (await fetch(`${url}/v1/capacity`)).json();
    if (cap.pool.free >= cap.pool.size) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `pooled`: default-size sandboxes, taken from the warm pool (spawned from the template's
 * zygote, sharing its pages); the total then also holds the pool's replacement for each, so
 * it is what one more sandbox costs the host, refill included. Otherwise a custom size, booted
 * cold.
 */
async function tsDensity(file, pooled = false) {
  const used = () => readBytes(file);
  if (pooled) await poolFull();
  await settle();
  const before = used();
  let last = before;
  const increments = [];
  const sandboxes = [];
  try {
    for (let i = 0; i < count; i++) {
      const sb = await Sandbox.create(pooled ? {} : { memoryMb: 512 }); // a custom size boots cold, not from the pool
      await sb.runCode("x = 1");
      sandboxes.push(sb);
      const now = used();
      increments.push(now - last);
      last = now;
    }
    if (pooled) await poolFull();
    await settle();
    return { increments, total: used() - before };
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.close()));
  }
}

function pyDensity(file) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const py = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_density.py"), String(count), file], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
    timeout: 900_000,
  });
  if (py.status !== 0) throw new Error(`python density bench failed: ${py.stderr}`);
  return JSON.parse(py.stdout.trim().split("\n").pop());
}

export async function runDensity() {
  const file = cgroupMemoryFile();
  const ts = await tsDensity(file);
  const py = pyDensity(file);
  const pooled = await tsDensity(file, true);
  const bwrapPer = await bwrapIdleMemoryBytes(20);
  const base = bwrapPer && { name: "idle python3 REPL in bwrap (20, total / 20)", unit: "MB", stats: summarize([bwrapPer / MB]), samples: [bwrapPer / MB] };
  const row = (sdk, r) => {
    const samples = r.increments.map((b) => b / MB);
    return { name: `idle sandbox, memory charged, ${sdk} (per-sandbox increments)`, unit: "MB", stats: summarize(samples), samples, baseline: base };
  };
  const pooledSamples = pooled.increments.map((b) => b / MB);
  const rows = [
    row("TS SDK", ts),
    row("Python SDK", py),
    { name: "idle pooled (spawned) sandbox, memory charged, TS SDK (increments; refill included)", unit: "MB", stats: summarize(pooledSamples), samples: pooledSamples, baseline: base },
  ];
  printTable(`density: ${count} idle sandboxes per SDK (cold-booted, custom size), then ${count} from the warm pool; memory charged to hostd's cgroup (page cache included)`, rows);
  const perTs = ts.total / count;
  const perPy = py.total / count;
  const perPooled = pooled.total / count;
  console.log(`TS SDK: ${(perTs / MB).toFixed(1)} MB each after a settle, so about ${Math.floor(GB8 / perTs)} fit in 8 GB; ` +
    `Python SDK: ${(perPy / MB).toFixed(1)} MB each, about ${Math.floor(GB8 / perPy)}; ` +
    `from the warm pool (spawned): ${(perPooled / MB).toFixed(1)} MB each with the pool's replacement, about ${Math.floor(GB8 / perPooled)}`);
  if (bwrapPer) console.log(`baseline: an idle python3 REPL in bwrap is charged ${(bwrapPer / MB).toFixed(1)} MB, so about ${Math.floor(GB8 / bwrapPer)} fit in 8 GB`);
  return {
    rows: rows.map((r) => ({ ...r, baseline: r.baseline?.name ?? null })),
    baselines: base ? [base] : [],
    sandboxes: count,
    mb_per_sandbox: { ts: perTs / MB, python: perPy / MB, pooled_ts: perPooled / MB },
    fit_in_8gb: { ts: Math.floor(GB8 / perTs), python: Math.floor(GB8 / perPy), pooled_ts: Math.floor(GB8 / perPooled) },
    baseline_bwrap_repl_mb: bwrapPer ? bwrapPer / MB : null,
    baseline_bwrap_fit_in_8gb: bwrapPer ? Math.floor(GB8 / bwrapPer) : null,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runDensity();
