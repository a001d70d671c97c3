// Looking at sandboxes from the host side: their cgroup and their processes.
import fs from "node:fs";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";

// Sandboxes of every test hostd: the shared one (PODFLARE_STATE_DIR) and those of tests that
// run their own; ids are unique, so looking in each parent is unambiguous.
const shared = process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-test";
const stateDirs = [shared, `${shared}-restart`, `${shared}-auth`];
const managers = stateDirs.map((d) => new CgroupManager({ parent: cgroupParentFor(d) }));

function managerOf(id: string): CgroupManager {
  return managers.find((m) => m.dirs(id).some((d) => fs.existsSync(d))) ?? managers[0]!;
}

/** Host pids of every process in a sandbox's cgroup. */
export function sandboxPids(id: string): number[] {
  return cgroupExists(id) ? managerOf(id).pids(id) : [];
}

export function cgroupExists(id: string): boolean {
  return managers.some((m) => m.dirs(id).some((d) => fs.existsSync(d)));
}

export function hostUid(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  } catch {
    return null;
  }
}

/** Bytes the sandbox's cgroup is charged for (memory.usage_in_bytes / memory.current). */
export function sandboxMemoryBytes(id: string): number {
  return managerOf(id).memoryCurrentBytes(id);
}

/** Family cgroups (fam_*) that exist under the shared hostd's parent group. */
export function familyCgroups(): string[] {
  return managers[0]!.listIds().filter((id) => id.startsWith("fam_"));
}

/** Host memory in use (MemTotal - MemAvailable), bytes. */
export function hostUsedBytes(): number {
  const text = fs.readFileSync("/proc/meminfo", "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) * 1024;
}

/** The cgroup directories of a sandbox (one per v1 controller, or one on v2). */
export function cgroupDirs(id: string): string[] {
  return managerOf(id).dirs(id).filter((d) => fs.existsSync(d));
}

/** Whether a state dir's cgroup parent still exists in any hierarchy (v1 controllers or v2). */
export function cgroupParentExists(stateDir: string): boolean {
  const parent = cgroupParentFor(stateDir);
  const roots = fs.existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : fs.readdirSync("/sys/fs/cgroup").map((c) => `/sys/fs/cgroup/${c}`);
  return roots.some((r) => fs.existsSync(`${r}/${parent}`));
}

/** A sandbox's CPU share (v1 cpu.shares, v2 cpu.weight), and the value a normal group has. */
export function cpuShare(id: string): { value: number; normal: number } {
  for (const dir of cgroupDirs(id)) {
    for (const [file, normal] of [["cpu.shares", 1024], ["cpu.weight", 100]] as const) {
      if (fs.existsSync(`${dir}/${file}`)) return { value: Number(fs.readFileSync(`${dir}/${file}`, "utf8")), normal };
    }
  }
  throw new Error(`sandbox ${id} has no cpu.shares or cpu.weight`);
}

/** CPU shares of every sandbox group under the shared test hostd's cgroup parent. */
export function cpuSharesUnderParent(): number[] {
  const parent = cgroupParentFor(shared);
  const dirs = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? [`/sys/fs/cgroup/${parent}`] : [`/sys/fs/cgroup/cpu/${parent}`, `/sys/fs/cgroup/cpu,cpuacct/${parent}`];
  const out: number[] = [];
  for (const d of dirs.filter((x) => fs.existsSync(x)).slice(0, 1)) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || !e.name.startsWith("sbx_")) continue;
      for (const f of ["cpu.shares", "cpu.weight"]) {
        if (fs.existsSync(`${d}/${e.name}/${f}`)) out.push(Number(fs.readFileSync(`${d}/${e.name}/${f}`, "utf8")));
      }
    }
  }
  return out;
}

/** A failure's description: given as a function when it should tell the state at the deadline. */
function described(what: string | (() => string)): string {
  return typeof what === "function" ? what() : what;
}

/**
 * Waits for a condition that becomes true shortly after an answer (what a closed sandbox held
 * is reclaimed in the background); fails with `what` when it does not within timeoutMs.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${described(what)} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Like eventually, for a check that yields a value: waits until it is neither undefined nor false. */
export async function until<T>(check: () => Promise<T | undefined | false>, what: string | (() => string), timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${described(what)} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Host pids whose parent is `pid`, only those in `state` (one letter of /proc/<pid>/stat: "Z" for zombies) when given. */
export function childrenOf(pid: number, state?: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const [s, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && (state === undefined || s === state)) out.push(Number(e));
    } catch {
      /* exited */
    }
  }
  return out;
}
