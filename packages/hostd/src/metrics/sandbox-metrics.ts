// GET /v1/sandboxes/:id/metrics: one sandbox's CPU, memory, disk and tasks, read from its cgroup
// and its root's disk usage at the time of the call (nothing is sampled in the background).
import type { SandboxMetrics } from "@podflare/protocol";
import type { CgroupManager } from "../jail/index.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";

export interface SandboxMetricsSource {
  cgroups: Pick<CgroupManager, "cpuUsageUsec" | "memoryCurrentBytes" | "pidsCurrent">;
  /** Bytes the sandbox root (keyed by runtime id) takes; absent on drivers that cannot tell. */
  diskUsageBytes?: (runtimeId: string) => Promise<number>;
}

const MB = 1024 * 1024;

export async function readSandboxMetrics(sandboxes: SandboxManager, src: SandboxMetricsSource, owner: string, id: string): Promise<SandboxMetrics> {
  const info = sandboxes.info(owner, id); // 404 for a missing or another owner's sandbox
  const key = sandboxes.runtimeOf(owner, id).id;
  // A group that went away under us (the sandbox closing) reads as 0 rather than failing the call.
  const read = (fn: () => number): number => {
    try {
      return fn();
    } catch {
      return 0;
    }
  };
  const disk = src.diskUsageBytes ? await src.diskUsageBytes(key).catch(() => 0) : 0;
  return {
    id,
    state: info.state,
    cpu_usec: read(() => src.cgroups.cpuUsageUsec(key)),
    memory_bytes: read(() => src.cgroups.memoryCurrentBytes(key)),
    memory_limit_bytes: info.applied.memory_mb * MB,
    disk_bytes: disk,
    disk_limit_bytes: info.applied.disk_mb * MB,
    pids: read(() => src.cgroups.pidsCurrent(key)),
    ts: Date.now(),
  };
}
