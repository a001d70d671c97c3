// Two views of memory for the benches: the host's used memory (what the issue asks for, but
// blurred by every other process on a shared machine) and the memory charged to hostd's cgroup
// parent (every sandbox, its init and family init: only ours, the kernel's own accounting).
import fs from "node:fs";
import { cgroupParentFor } from "@podflare/hostd";

export function hostUsedBytes() {
  const text = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) * 1024;
}

/** The file holding the bytes charged to hostd's cgroup parent (v2 or v1). */
export function cgroupMemoryFile() {
  const parent = cgroupParentFor(process.env.PODFLARE_STATE_DIR || "/var/lib/podflare");
  for (const f of [`/sys/fs/cgroup/${parent}/memory.current`, `/sys/fs/cgroup/memory/${parent}/memory.usage_in_bytes`]) {
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`no memory accounting for cgroup ${parent}: set PODFLARE_STATE_DIR to hostd's state dir`);
}

export const readBytes = (file) => Number(fs.readFileSync(file, "utf8"));
