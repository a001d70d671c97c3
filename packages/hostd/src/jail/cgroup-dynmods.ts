// Fast cgroup migrations on cgroup v1 hosts. Every write to a `cgroup.procs` file takes the
// kernel's global cgroup_threadgroup_rwsem for writing, which, after a quiet moment, first waits
// for an RCU grace period: ~6–14 ms here, paid by every create and fork. A cgroup hierarchy
// mounted with `favordynmods` switches that lock to a mode where writers do not wait (forks and
// exits elsewhere on the host pay a little more). The lock is global, so one small named v1
// hierarchy of our own is enough; hostd mounts it at start and unmounts it when it stops, and
// `podflare down` removes one a killed hostd left (docs/operations.md).
import { spawnToolSync } from "../host-tools/index.js";
import fs from "node:fs";
import path from "node:path";

/** Where hostd mounts its favordynmods hierarchy. */
export function dynmodsMountPoint(stateDir: string): string {
  return path.join(stateDir, "cgroup-favordynmods");
}

function isMounted(dir: string): boolean {
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
  return mounts.split("\n").some((line) => line.split(" ")[4] === dir);
}

/**
 * The hierarchy's name, the same for every hostd on the host (each mounts it at its own state
 * dir; it lasts while any mount does). Sandboxes see it in /proc/self/cgroup, so it names
 * nothing of the host's.
 */
const HIERARCHY = "podflare";

/**
 * Mounts the named v1 hierarchy with favordynmods at the state dir's mount point (kept when a
 * killed hostd left it). Returns why not on hosts that cannot (no v1 support, old kernel).
 */
export function favorDynamicMods(stateDir: string): { ok: true } | { ok: false; reason: string } {
  const dir = dynmodsMountPoint(stateDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isMounted(dir)) return { ok: true };
  const r = spawnToolSync("mount", ["-t", "cgroup", "-o", `none,name=${HIERARCHY},favordynmods`, "cgroup", dir]);
  if (r.status === 0) return { ok: true };
  return { ok: false, reason: (r.stderr || r.error?.message || `mount exited ${r.status}`).trim() };
}

/** Unmounts the hierarchy (idempotent). */
export function releaseDynamicMods(stateDir: string): void {
  const dir = dynmodsMountPoint(stateDir);
  if (!fs.existsSync(dir)) return;
  if (isMounted(dir)) spawnToolSync("umount", [dir]);
  try {
    fs.rmdirSync(dir);
  } catch {
    /* still mounted (busy) or already gone */
  }
}
