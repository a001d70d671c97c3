// Density: what an idle sandbox costs in host memory, and so how many fit in 8 GB. Creates
// idle default sandboxes (a first exec each, so the REPL is warm) and reads the host's used
// memory (MemTotal - MemAvailable) before and after.
import fs from "node:fs";
import { Sandbox } from "podflare";
import { bwrapIdleMemoryBytes } from "./baselines.mjs";

const count = Number(process.env.PODFLARE_BENCH_DENSITY ?? 40);

function usedBytes() {
  const text = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) * 1024;
}

export async function runDensity() {
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  await settle();
  const before = usedBytes();
  const sandboxes = [];
  try {
    for (let i = 0; i < count; i++) {
      const sb = await Sandbox.create({ memoryMb: 512 }); // a custom size: boots cold, not from the pool
      await sb.runCode("x = 1");
      sandboxes.push(sb);
    }
    await settle();
    const perSandbox = (usedBytes() - before) / sandboxes.length;
    const fit = Math.floor((8 * 1024 ** 3) / perSandbox);
    console.log(`\ndensity: ${sandboxes.length} idle sandboxes added ${((usedBytes() - before) / 1024 ** 2).toFixed(0)} MB: ` +
      `${(perSandbox / 1024 ** 2).toFixed(1)} MB each, so about ${fit} fit in 8 GB of host memory`);
    const bwrapPer = await bwrapIdleMemoryBytes(20);
    if (bwrapPer) console.log(`baseline: an idle python3 REPL in bwrap costs ${(bwrapPer / 1024 ** 2).toFixed(1)} MB, so about ${Math.floor((8 * 1024 ** 3) / bwrapPer)} fit in 8 GB`);
    return {
      rows: [],
      baselines: [],
      sandboxes: sandboxes.length,
      mb_per_sandbox: perSandbox / 1024 ** 2,
      fit_in_8gb: fit,
      baseline_bwrap_repl_mb: bwrapPer ? bwrapPer / 1024 ** 2 : null,
      baseline_bwrap_fit_in_8gb: bwrapPer ? Math.floor((8 * 1024 ** 3) / bwrapPer) : null,
    };
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runDensity();
