// A sandbox's limits as the cgroup files take them (bytes, a CFS quota per period, a task
// count), and its CPU share under contention. The per-version writes: cgroup-v1.ts, cgroup-v2.ts.
import path from "node:path";
import { write } from "./cgroup-files.js";
import type { CgroupLayout } from "./cgroup-layout.js";

export interface CgroupLimits {
  memoryMb: number;
  vcpus: number;
  pidsMax: number;
}

/** The CFS period both versions use; the quota is vcpus periods' worth of CPU time. */
export const CPU_PERIOD_US = 100_000;

export interface GroupLimitValues {
  memBytes: number;
  quotaUs: number;
  pidsMax: number;
}

export function limitValues(limits: CgroupLimits): GroupLimitValues {
  return {
    memBytes: Math.floor(limits.memoryMb * 1024 * 1024),
    quotaUs: Math.max(1000, Math.round(limits.vcpus * CPU_PERIOD_US)),
    pidsMax: Math.max(1, Math.floor(limits.pidsMax)),
  };
}

/** The parent's ceiling as the files take it: memory in bytes, tasks at least 1. */
export function ceilingValues(ceiling: { memoryMb: number; pidsMax: number }): { memBytes: string; pidsMax: string } {
  return { memBytes: String(Math.floor(ceiling.memoryMb * 1024 * 1024)), pidsMax: String(Math.max(1, Math.floor(ceiling.pidsMax))) };
}

/**
 * CPU share against other groups when the CPU is contended: "background" for warm-pool
 * boots (they use only what live sandboxes leave), "normal" otherwise. The quota is unchanged.
 */
export function setCpuPriority(l: CgroupLayout, id: string, priority: "background" | "normal"): void {
  if (l.version === 2) write(path.join(l.dir(id, ""), "cpu.weight"), priority === "background" ? "1" : "100");
  else write(path.join(l.dir(id, "cpu"), "cpu.shares"), priority === "background" ? "2" : "1024");
}
