// The host's CPU and memory (from /proc) and the storage pool's disk (statfs), read at scrape time.
import fs from "node:fs";

/** Seconds of CPU time per mode since boot, all cores added (the first line of /proc/stat). */
export function parseProcStat(text: string, ticksPerSecond = 100): Record<string, number> {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return {};
  const modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const out: Record<string, number> = {};
  modes.forEach((m, i) => {
    if (values[i] !== undefined && Number.isFinite(values[i])) out[m] = values[i]! / ticksPerSecond;
  });
  return out;
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { total: kb("MemTotal"), available: kb("MemAvailable") };
}

export interface HostStats {
  cpuSeconds: Record<string, number>;
  memory: { total: number; available: number };
  /** The pool's filesystem: size and free bytes; null if it cannot be read. */
  poolDisk: { size: number; free: number } | null;
}

export function readHostStats(poolRoot: string): HostStats {
  let poolDisk: HostStats["poolDisk"] = null;
  try {
    const s = fs.statfsSync(poolRoot);
    poolDisk = { size: s.blocks * s.bsize, free: s.bavail * s.bsize };
  } catch {
    /* pool not mounted (being torn down) */
  }
  return {
    cpuSeconds: parseProcStat(fs.readFileSync("/proc/stat", "utf8")),
    memory: parseMeminfo(fs.readFileSync("/proc/meminfo", "utf8")),
    poolDisk,
  };
}
