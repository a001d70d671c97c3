// A sandbox's limits as the cgroup files take them (bytes, a CFS quota per period, a task
// count), and its CPU share under contention. The per-version writes: cgroup-v1.ts, cgroup-v2.ts.
import path from "node:path";
import { readText, write } from "./cgroup-files.js";
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

/** cpu.weight's range on v2; v1's cpu.shares is the same weight scaled (100 is 1024 shares). */
export const CPU_WEIGHT_MAX = 10_000;

/**
 * A live sandbox's CPU share under contention, in cpu.weight units (1..CPU_WEIGHT_MAX): its
 * key's weight divided among the key's sandboxes (lifecycle/key-cpu-shares.ts).
 */
export function setCpuWeight(l: CgroupLayout, id: string, weight: number): void {
  const w = Math.min(CPU_WEIGHT_MAX, Math.max(1, Math.round(weight)));
  if (l.version === 2) write(path.join(l.dir(id, ""), "cpu.weight"), String(w));
  else write(path.join(l.dir(id, "cpu"), "cpu.shares"), String(Math.max(2, Math.round((w * 1024) / 100))));
}

/** The group's CPU share in cpu.weight units (v1's cpu.shares scaled back). */
export function cpuWeight(l: CgroupLayout, id: string): number {
  if (l.version === 2) return Number(readText(path.join(l.dir(id, ""), "cpu.weight")).trim());
  return Math.round((Number(readText(path.join(l.dir(id, "cpu"), "cpu.shares")).trim()) * 100) / 1024);
}
