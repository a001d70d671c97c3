// Per-sandbox cgroups: memory (hard limit, no swap), cpu quota, pids, freezer.
// Works on pure cgroup v2 hosts (one tree at /sys/fs/cgroup) and on v1 / hybrid hosts (one
// hierarchy per controller); the caller sees one interface either way.

import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmdirSync, writeFileSync, type Dirent } from "node:fs";
import path from "node:path";

export type CgroupVersion = 1 | 2;

export interface CgroupLimits {
  memoryMb: number;
  vcpus: number;
  pidsMax: number;
}

export interface CgroupManagerOptions {
  /** Where cgroup filesystems are mounted. */
  root?: string;
  /** Parent group every sandbox group lives under. */
  parent?: string;
  /** Force a version instead of detecting it. */
  version?: CgroupVersion;
}

const DEFAULT_ROOT = "/sys/fs/cgroup";
const V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer"] as const;
const V2_CONTROLLERS = ["memory", "cpu", "pids"] as const;
const CPU_PERIOD_US = 100_000;
const SETTLE_POLL_MS = 5;

/** Pure v2 has cgroup.controllers at the root of the mount; hybrid and v1 hosts do not. */
export function detectCgroupVersion(root = DEFAULT_ROOT): CgroupVersion {
  return existsSync(path.join(root, "cgroup.controllers")) ? 2 : 1;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new Error(`invalid cgroup id ${JSON.stringify(id)}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function readText(file: string): string {
  return readFileSync(file, "utf8");
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

/** A "key value" line from files like memory.events or memory.oom_control. */
function keyed(text: string, key: string): number {
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return 0;
}

export class CgroupManager {
  readonly version: CgroupVersion;
  readonly root: string;
  readonly parent: string;
  private readonly v1Controllers: string[];

  constructor(opts: CgroupManagerOptions = {}) {
    this.root = opts.root ?? DEFAULT_ROOT;
    this.parent = opts.parent ?? "podflare";
    this.version = opts.version ?? detectCgroupVersion(this.root);
    // cpu and cpuacct are often co-mounted (cpu -> cpu,cpuacct): keep one of each real dir.
    const seen = new Set<string>();
    this.v1Controllers = [];
    if (this.version === 1) {
      for (const c of V1_CONTROLLERS) {
        const dir = path.join(this.root, c);
        if (!existsSync(dir)) {
          if (c === "cpuacct") continue;
          throw new Error(`cgroup v1 controller ${c} is not mounted at ${dir}`);
        }
        const real = realpathSync(dir);
        if (seen.has(real)) continue;
        seen.add(real);
        this.v1Controllers.push(c);
      }
    }
  }

  /** The directories that make up one sandbox's group (one per v1 hierarchy, one on v2). */
  dirs(id: string): string[] {
    checkId(id);
    if (this.version === 2) return [path.join(this.root, this.parent, id)];
    return this.v1Controllers.map((c) => path.join(this.root, c, this.parent, id));
  }

  private dir(id: string, controller: string): string {
    checkId(id);
    if (this.version === 2) return path.join(this.root, this.parent, id);
    return path.join(this.root, controller, this.parent, id);
  }

  /** Create the sandbox's group with its limits. Fails if it already exists. */
  create(id: string, limits: CgroupLimits): void {
    const memBytes = Math.floor(limits.memoryMb * 1024 * 1024);
    const quotaUs = Math.max(1000, Math.round(limits.vcpus * CPU_PERIOD_US));
    const pidsMax = Math.max(1, Math.floor(limits.pidsMax));
    try {
      if (this.version === 2) this.createV2(id, memBytes, quotaUs, pidsMax);
      else this.createV1(id, memBytes, quotaUs, pidsMax);
    } catch (err) {
      for (const dir of this.dirs(id)) {
        try {
          rmdirSync(dir);
        } catch {
          /* not created */
        }
      }
      throw err;
    }
  }

  private createV1(id: string, memBytes: number, quotaUs: number, pidsMax: number): void {
    for (const c of this.v1Controllers) {
      mkdirSync(path.join(this.root, c, this.parent), { recursive: true });
      mkdirSync(this.dir(id, c));
    }
    const mem = this.dir(id, "memory");
    write(path.join(mem, "memory.limit_in_bytes"), String(memBytes));
    // memsw = memory + swap; equal to the memory limit means no swap at all.
    if (existsSync(path.join(mem, "memory.memsw.limit_in_bytes"))) {
      write(path.join(mem, "memory.memsw.limit_in_bytes"), String(memBytes));
    }
    try {
      write(path.join(mem, "memory.swappiness"), "0");
    } catch {
      /* not offered by every kernel */
    }
    const cpu = this.dir(id, "cpu");
    write(path.join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
    write(path.join(cpu, "cpu.cfs_quota_us"), String(quotaUs));
    write(path.join(this.dir(id, "pids"), "pids.max"), String(pidsMax));
  }

  /** Makes the v2 parent group and enables the controllers for it and its children. */
  private ensureV2Parent(): string {
    const parentDir = path.join(this.root, this.parent);
    mkdirSync(parentDir, { recursive: true });
    const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(" ");
    for (const dir of [this.root, parentDir]) {
      const have = (readText(path.join(dir, "cgroup.subtree_control"))).split(/\s+/);
      if (V2_CONTROLLERS.every((c) => have.includes(c))) continue;
      write(path.join(dir, "cgroup.subtree_control"), enable);
    }
    return parentDir;
  }

  /**
   * Limits on the parent group, which all sandboxes share (jail/ceiling.ts): memory (no swap
   * limit: the sandboxes' own groups allow none) and tasks. Made before any sandbox group.
   */
  setCeiling(ceiling: { memoryMb: number; pidsMax: number }): void {
    const memBytes = String(Math.floor(ceiling.memoryMb * 1024 * 1024));
    const pidsMax = String(Math.max(1, Math.floor(ceiling.pidsMax)));
    if (this.version === 2) {
      const dir = this.ensureV2Parent();
      write(path.join(dir, "memory.max"), memBytes);
      write(path.join(dir, "pids.max"), pidsMax);
      return;
    }
    for (const c of this.v1Controllers) mkdirSync(path.join(this.root, c, this.parent), { recursive: true });
    const mem = path.join(this.root, "memory", this.parent);
    try {
      // v1 counts children in a parent's usage only with use_hierarchy (always on since 5.16;
      // refused once the group has children, by which time it was set by an earlier start).
      if (readText(path.join(mem, "memory.use_hierarchy")).trim() !== "1") write(path.join(mem, "memory.use_hierarchy"), "1");
    } catch {
      /* no such file: hierarchy is the only mode */
    }
    write(path.join(mem, "memory.limit_in_bytes"), memBytes);
    write(path.join(this.root, "pids", this.parent, "pids.max"), pidsMax);
  }

  private createV2(id: string, memBytes: number, quotaUs: number, pidsMax: number): void {
    this.ensureV2Parent();
    const dir = this.dir(id, "");
    mkdirSync(dir);
    write(path.join(dir, "memory.max"), String(memBytes));
    if (existsSync(path.join(dir, "memory.swap.max"))) {
      write(path.join(dir, "memory.swap.max"), "0");
    }
    write(path.join(dir, "cpu.max"), `${quotaUs} ${CPU_PERIOD_US}`);
    write(path.join(dir, "pids.max"), String(pidsMax));
  }

  /**
   * CPU share against other groups when the CPU is contended: "background" for warm-pool
   * boots (they use only what live sandboxes leave), "normal" otherwise. The quota is unchanged.
   */
  setCpuPriority(id: string, priority: "background" | "normal"): void {
    if (this.version === 2) write(path.join(this.dir(id, ""), "cpu.weight"), priority === "background" ? "1" : "100");
    else write(path.join(this.dir(id, "cpu"), "cpu.shares"), priority === "background" ? "2" : "1024");
  }

  /** The cgroup.procs files a process must write its pid to in order to join the sandbox. */
  procsFiles(id: string): string[] {
    return this.dirs(id).map((d) => path.join(d, "cgroup.procs"));
  }

  async freeze(id: string, timeoutMs = 5000): Promise<void> {
    await this.setFrozen(id, true, timeoutMs);
  }

  async thaw(id: string, timeoutMs = 5000): Promise<void> {
    await this.setFrozen(id, false, timeoutMs);
  }

  private async setFrozen(id: string, frozen: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.version === 2) {
      const dir = this.dir(id, "");
      write(path.join(dir, "cgroup.freeze"), frozen ? "1" : "0");
      while (keyed(readText(path.join(dir, "cgroup.events")), "frozen") !== (frozen ? 1 : 0)) {
        if (Date.now() > deadline) throw new Error(`cgroup ${id} did not ${frozen ? "freeze" : "thaw"}`);
        await sleep(SETTLE_POLL_MS);
      }
      return;
    }
    const file = path.join(this.dir(id, "freezer"), "freezer.state");
    const want = frozen ? "FROZEN" : "THAWED";
    write(file, want);
    while ((readText(file)).trim() !== want) {
      if (Date.now() > deadline) throw new Error(`cgroup ${id} did not ${frozen ? "freeze" : "thaw"}`);
      await sleep(SETTLE_POLL_MS);
      write(file, want);
    }
  }

  /** How many times the kernel's OOM killer killed a process in this group; 0 once the group is
   * gone (an exec whose sandbox was closed under it asks after the removal). */
  oomKillCount(id: string): number {
    const file = this.version === 2 ? path.join(this.dir(id, ""), "memory.events") : path.join(this.dir(id, "memory"), "memory.oom_control");
    try {
      return keyed(readText(file), "oom_kill");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
  }

  memoryCurrentBytes(id: string): number {
    const file = this.version === 2
      ? path.join(this.dir(id, ""), "memory.current")
      : path.join(this.dir(id, "memory"), "memory.usage_in_bytes");
    return Number((readText(file)).trim());
  }

  /** CPU time the group used, in microseconds (v2 cpu.stat usage_usec, v1 cpuacct.usage in ns). */
  cpuUsageUsec(id: string): number {
    if (this.version === 2) return keyed(readText(path.join(this.dir(id, ""), "cpu.stat")), "usage_usec");
    return Math.floor(Number(readText(path.join(this.dir(id, "cpuacct"), "cpuacct.usage")).trim()) / 1000);
  }

  /** Number of tasks (threads included) the pids controller counts against pids.max. */
  pidsCurrent(id: string): number {
    return Number((readText(path.join(this.dir(id, "pids"), "pids.current"))).trim());
  }

  /** Host pids of the processes in the group. */
  pids(id: string): number[] {
    const text = readText(path.join(this.dir(id, "pids"), "cgroup.procs"));
    return text.split("\n").filter((l) => l.trim() !== "").map(Number);
  }

  private pidsOrNone(id: string): number[] {
    try {
      return this.pids(id);
    } catch {
      return [];
    }
  }

  /** Kill every process in the group and wait until it is empty. No-op for a missing group. */
  async killAll(id: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const v2Kill = this.version === 2 ? path.join(this.dir(id, ""), "cgroup.kill") : "";
    const useKill = v2Kill !== "" && existsSync(v2Kill);
    if (useKill) write(v2Kill, "1");
    // cgroup.procs lists no zombies: an init whose zombie waits for the host's pid 1 to reap
    // it still counts in pids.current for a moment, but nothing in the group runs any more.
    while (this.pidsOrNone(id).length > 0) {
      if (Date.now() > deadline) throw new Error(`cgroup ${id} still has processes after kill`);
      if (!useKill) await this.killFrozen(id);
      await sleep(SETTLE_POLL_MS);
    }
  }

  /** Waits up to timeoutMs for the group to hold no process; true if it emptied. */
  async waitEmpty(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pidsOrNone(id).length > 0) {
      if (Date.now() > deadline) return false;
      await sleep(1);
    }
    return true;
  }

  /** Without cgroup.kill: freeze (so nothing forks or exits and frees its pid), SIGKILL every
   * task, thaw so the kills land. */
  private async killFrozen(id: string): Promise<void> {
    await this.freeze(id).catch(() => undefined);
    const tasksFile = this.version === 2
      ? path.join(this.dir(id, ""), "cgroup.threads")
      : path.join(this.dir(id, "freezer"), "tasks");
    let tasks: number[] = [];
    try {
      tasks = readText(tasksFile).split("\n").filter((l) => l.trim() !== "").map(Number);
    } catch {
      /* group vanished */
    }
    for (const pid of tasks) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    await this.thaw(id).catch(() => undefined);
  }

  /** Remove the group's directories. Idempotent; waits for exiting processes to leave. */
  async remove(id: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const dir of this.dirs(id)) {
      for (;;) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if (errno(err) === "ENOENT") break;
          if (errno(err) !== "EBUSY" || Date.now() > deadline) {
            throw new Error(`cannot remove cgroup ${dir}: ${(err as Error).message}`);
          }
          await sleep(SETTLE_POLL_MS);
        }
      }
    }
  }

  /** pids.max of the group ("max", no limit, reads as Infinity). */
  pidsMax(id: string): number {
    const text = readText(path.join(this.dir(id, "pids"), "pids.max")).trim();
    return text === "max" ? Infinity : Number(text);
  }

  /** How many forks and clones in the group failed at pids.max so far (pids.events). */
  pidsLimitHits(id: string): number {
    return keyed(readText(path.join(this.dir(id, "pids"), "pids.events")), "max");
  }

  /**
   * SIGKILLs every process of the group except `keep`, frozen meanwhile so that a fork bomb
   * cannot make new ones between the listing and the kills; repeats until only `keep` is
   * left. Returns how many processes it killed.
   */
  async killAllBut(id: string, keep: Set<number>, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const killed = new Set<number>();
    for (;;) {
      await this.freeze(id);
      let victims: number[];
      try {
        victims = this.pids(id).filter((pid) => !keep.has(pid));
        for (const pid of victims) {
          try {
            process.kill(pid, "SIGKILL");
            killed.add(pid);
          } catch {
            /* already gone */
          }
        }
      } finally {
        await this.thaw(id);
      }
      if (victims.length === 0) return killed.size;
      if (Date.now() > deadline) throw new Error(`cgroup ${id} still has processes after ${killed.size} kills`);
      await sleep(SETTLE_POLL_MS);
    }
  }

  /** Sandbox ids that have a group (any hierarchy), for reconciling after a restart. */
  /** Removes this manager's parent group where it holds no sandbox any more (`podflare down`). */
  removeParentIfEmpty(): void {
    const parents = this.version === 2 ? [path.join(this.root, this.parent)] : this.v1Controllers.map((c) => path.join(this.root, c, this.parent));
    for (const dir of parents) {
      try {
        rmdirSync(dir);
      } catch {
        /* missing, or still in use: nothing to do */
      }
    }
  }

  listIds(): string[] {
    const parents = this.version === 2
      ? [path.join(this.root, this.parent)]
      : this.v1Controllers.map((c) => path.join(this.root, c, this.parent));
    const ids = new Set<string>();
    for (const p of parents) {
      let entries: Dirent[] = [];
      try {
        entries = readdirSync(p, { withFileTypes: true });
      } catch (err) {
        if (errno(err) !== "ENOENT") throw err;
      }
      for (const e of entries) if (e.isDirectory() && ID_RE.test(e.name)) ids.add(e.name);
    }
    return [...ids].sort();
  }
}
