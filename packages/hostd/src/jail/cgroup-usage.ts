// What a sandbox's group used and holds, read from its control files: OOM kills, memory,
// CPU time, tasks, processes and the pids limit.
import path from "node:path";
import { keyed, readText } from "./cgroup-files.js";
import type { CgroupLayout } from "./cgroup-layout.js";

/** How many times the kernel's OOM killer killed a process in this group; 0 once the group is
 * gone (an exec whose sandbox was closed under it asks after the removal). */
export function oomKillCount(l: CgroupLayout, id: string): number {
  const file = l.version === 2 ? path.join(l.dir(id, ""), "memory.events") : path.join(l.dir(id, "memory"), "memory.oom_control");
  try {
    return keyed(readText(file), "oom_kill");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
}

export function memoryCurrentBytes(l: CgroupLayout, id: string): number {
  const file = l.version === 2
    ? path.join(l.dir(id, ""), "memory.current")
    : path.join(l.dir(id, "memory"), "memory.usage_in_bytes");
  return Number((readText(file)).trim());
}

/** CPU time the group used, in microseconds (v2 cpu.stat usage_usec, v1 cpuacct.usage in ns). */
export function cpuUsageUsec(l: CgroupLayout, id: string): number {
  if (l.version === 2) return keyed(readText(path.join(l.dir(id, ""), "cpu.stat")), "usage_usec");
  return Math.floor(Number(readText(path.join(l.dir(id, "cpuacct"), "cpuacct.usage")).trim()) / 1000);
}

/** Number of tasks (threads included) the pids controller counts against pids.max. */
export function pidsCurrent(l: CgroupLayout, id: string): number {
  return Number((readText(path.join(l.dir(id, "pids"), "pids.current"))).trim());
}

/** Host pids of the processes in the group. */
export function pids(l: CgroupLayout, id: string): number[] {
  const text = readText(path.join(l.dir(id, "pids"), "cgroup.procs"));
  return text.split("\n").filter((line) => line.trim() !== "").map(Number);
}

/** pids(), or none when the group is gone. */
export function pidsOrNone(l: CgroupLayout, id: string): number[] {
  try {
    return pids(l, id);
  } catch {
    return [];
  }
}

/** pids.max of the group ("max", no limit, reads as Infinity). */
export function pidsMax(l: CgroupLayout, id: string): number {
  const text = readText(path.join(l.dir(id, "pids"), "pids.max")).trim();
  return text === "max" ? Infinity : Number(text);
}

/** How many forks and clones in the group failed at pids.max so far (pids.events). */
export function pidsLimitHits(l: CgroupLayout, id: string): number {
  return keyed(readText(path.join(l.dir(id, "pids"), "pids.events")), "max");
}
