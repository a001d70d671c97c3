// Density: what an idle sandbox costs in host memory, and so how many fit in 8 GB. Creates
// idle sandboxes (a first exec each, so the REPL is warm) and reads the memory charged to
// hostd's cgroup parent (every sandbox, its init and family init) before and after: the
// kernel's own accounting, not the host-wide free memory, which page-cache reclaim blurs.
import fs from "node:fs";
import { cgroupParentFor } from "@podflare/hostd";
import { Sandbox } from "podflare";
import { bwrapIdleMemoryBytes } from "./baselines.mjs";

const count = Number(process.env.PODFLARE_BENCH_DENSITY ?? 40);

function usedBytes() {
  const parent = cgroupParentFor(process.env.PODFLARE_STATE_DIR || "/var/lib/podflare");
  for (const f of [`/sys/fs/cgroup/${parent}/memory.current`, `/sys/fs/cgroup/memory/${parent}/memory.usage_in_bytes`]) {
    if (fs.existsSync(f)) return Number(fs.readFileSync(f, "utf8"));
  }
  throw new Error(`no memory accounting for cgroup ${parent}: set PODFLARE_STATE_DIR to hostd's state dir`);
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
    console.log(`\ndensity: ${sandboxes.length} idle sandboxes added ${((usedBytes() - before) / 1024 ** 2).toFixed(0)} MB to hostd's cgroup (page cache included): ` +
      `${(perSandbox / 1024 ** 2).toFixed(1)} MB each, so about ${fit} fit in 8 GB of host memory`);
    const bwrapPer = await bwrapIdleMemoryBytes(20);
    if (bwrapPer) console.log(`baseline: an idle python3 REPL in bwrap is charged ${(bwrapPer / 1024 ** 2).toFixed(1)} MB, so about ${Math.floor((8 * 1024 ** 3) / bwrapPer)} fit in 8 GB`);
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
