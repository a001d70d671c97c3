// The ceiling over all sandboxes together (issue 20.5): each sandbox has its own memory and pids
// limits, but enough sandboxes add up past the host's RAM and pid_max, and a host-wide OOM or
// a full pid table would hit hostd too. Their parent cgroup gets limits that leave the host a
// reserve; hostd's side is shielded from the OOM killer (oom.ts).
import fs from "node:fs";

export interface SandboxesCeiling {
  /** Memory all sandboxes together may use (PODFLARE_SANDBOXES_MEMORY_MB). */
  memoryMb: number;
  /** Tasks (threads included) all sandboxes together may hold (PODFLARE_SANDBOXES_PIDS_MAX). */
  pidsMax: number;
}

/** Memory kept for the host and hostd: 1/8 of RAM, at least 1 GiB (capped to half of RAM). */
export function memoryReserveMb(totalMb: number): number {
  return Math.min(Math.floor(totalMb / 2), Math.max(1024, Math.floor(totalMb / 8)));
}

/** Tasks kept for the host and hostd: 1/8 of the pid space, at least 2048 (capped to half of it). */
export function pidsReserve(hostTasks: number): number {
  return Math.min(Math.floor(hostTasks / 2), Math.max(2048, Math.floor(hostTasks / 8)));
}

/** The default ceiling for a host with totalMb of RAM and room for hostTasks tasks. */
export function defaultCeiling(totalMb: number, hostTasks: number): SandboxesCeiling {
  return { memoryMb: totalMb - memoryReserveMb(totalMb), pidsMax: hostTasks - pidsReserve(hostTasks) };
}

/** How many tasks the host can hold: the smaller of kernel.pid_max and kernel.threads-max. */
export function hostTaskLimit(): number {
  const read = (f: string) => Number(fs.readFileSync(f, "utf8").trim());
  return Math.min(read("/proc/sys/kernel/pid_max"), read("/proc/sys/kernel/threads-max"));
}
