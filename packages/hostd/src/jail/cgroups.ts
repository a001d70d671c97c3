// Per-sandbox cgroups: memory (hard limit, no swap), cpu quota, pids, freezer.
// Works on pure cgroup v2 hosts (one tree at /sys/fs/cgroup) and on v1 / hybrid hosts (one
// hierarchy per controller); the caller sees one interface either way. This file is the
// manager; where groups live: cgroup-layout.ts; limits: cgroup-limits.ts with the per-version
// writes in cgroup-v1.ts and cgroup-v2.ts; usage: cgroup-usage.ts; freeze and kill: cgroup-kill.ts.
import { readdirSync, rmdirSync, type Dirent } from "node:fs";
import path from "node:path";
import { errno, sleep, SETTLE_POLL_MS } from "./cgroup-files.js";
import * as kill from "./cgroup-kill.js";
import { CgroupLayout, DEFAULT_ROOT, detectCgroupVersion, ID_RE, type CgroupVersion } from "./cgroup-layout.js";
import { ceilingValues, cpuWeight, limitValues, setCpuPriority, setCpuWeight, type CgroupLimits } from "./cgroup-limits.js";
import * as usage from "./cgroup-usage.js";
import { createV1, setCeilingV1 } from "./cgroup-v1.js";
import { createV2, setCeilingV2 } from "./cgroup-v2.js";

export { detectCgroupVersion, type CgroupLimits, type CgroupVersion };

export interface CgroupManagerOptions {
  /** Where cgroup filesystems are mounted. */
  root?: string;
  /** Parent group every sandbox group lives under. */
  parent?: string;
  /** Force a version instead of detecting it. */
  version?: CgroupVersion;
}

export class CgroupManager {
  readonly version: CgroupVersion;
  readonly root: string;
  readonly parent: string;
  private readonly layout: CgroupLayout;

  constructor(opts: CgroupManagerOptions = {}) {
    this.root = opts.root ?? DEFAULT_ROOT;
    this.parent = opts.parent ?? "podflare";
    this.version = opts.version ?? detectCgroupVersion(this.root);
    this.layout = new CgroupLayout(this.version, this.root, this.parent);
  }

  /** The directories that make up one sandbox's group (one per v1 hierarchy, one on v2). */
  dirs(id: string): string[] {
    return this.layout.dirs(id);
  }

  /** Create the sandbox's group with its limits. Fails if it already exists. */
  create(id: string, limits: CgroupLimits): void {
    const values = limitValues(limits);
    try {
      if (this.version === 2) createV2(this.layout, id, values);
      else createV1(this.layout, id, values);
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

  /**
   * Limits on the parent group, which all sandboxes share (jail/ceiling.ts): memory (no swap
   * limit: the sandboxes' own groups allow none) and tasks. Made before any sandbox group.
   */
  setCeiling(ceiling: { memoryMb: number; pidsMax: number }): void {
    const { memBytes, pidsMax } = ceilingValues(ceiling);
    if (this.version === 2) setCeilingV2(this.layout, memBytes, pidsMax);
    else setCeilingV1(this.layout, memBytes, pidsMax);
  }

  /** CPU share under contention: "background" for warm-pool boots (cgroup-limits.ts). */
  setCpuPriority(id: string, priority: "background" | "normal"): void {
    setCpuPriority(this.layout, id, priority);
  }

  /** A live sandbox's CPU share in cpu.weight units (cgroup-limits.ts). */
  setCpuWeight(id: string, weight: number): void {
    setCpuWeight(this.layout, id, weight);
  }

  cpuWeight(id: string): number {
    return cpuWeight(this.layout, id);
  }

  /** The cgroup.procs files a process must write its pid to in order to join the sandbox. */
  procsFiles(id: string): string[] {
    return this.dirs(id).map((d) => path.join(d, "cgroup.procs"));
  }

  async freeze(id: string, timeoutMs = kill.FREEZE_TIMEOUT_MS): Promise<void> {
    await kill.setFrozen(this.layout, id, true, timeoutMs);
  }

  async thaw(id: string, timeoutMs = kill.FREEZE_TIMEOUT_MS): Promise<void> {
    await kill.setFrozen(this.layout, id, false, timeoutMs);
  }

  /** How many times the OOM killer killed a process in this group; 0 once the group is gone. */
  oomKillCount(id: string): number {
    return usage.oomKillCount(this.layout, id);
  }

  memoryCurrentBytes(id: string): number {
    return usage.memoryCurrentBytes(this.layout, id);
  }

  /** CPU time the group used, in microseconds. */
  cpuUsageUsec(id: string): number {
    return usage.cpuUsageUsec(this.layout, id);
  }

  /** Number of tasks (threads included) the pids controller counts against pids.max. */
  pidsCurrent(id: string): number {
    return usage.pidsCurrent(this.layout, id);
  }

  /** Host pids of the processes in the group. */
  pids(id: string): number[] {
    return usage.pids(this.layout, id);
  }

  /** Kill every process in the group and wait until it is empty. No-op for a missing group. */
  async killAll(id: string, timeoutMs = 10_000): Promise<void> {
    await kill.killAll(this.layout, id, timeoutMs);
  }

  /** Waits up to timeoutMs for the group to hold no process; true if it emptied. */
  async waitEmpty(id: string, timeoutMs: number): Promise<boolean> {
    return kill.waitEmpty(this.layout, id, timeoutMs);
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
    return usage.pidsMax(this.layout, id);
  }

  /** How many forks and clones in the group failed at pids.max so far (pids.events). */
  pidsLimitHits(id: string): number {
    return usage.pidsLimitHits(this.layout, id);
  }

  /** SIGKILLs every process of the group except `keep`, frozen meanwhile; returns how many. */
  async killAllBut(id: string, keep: Set<number>, timeoutMs = 10_000): Promise<number> {
    return kill.killAllBut(this.layout, id, keep, timeoutMs);
  }

  /** Removes this manager's parent group where it holds no sandbox any more (`podflare down`). */
  removeParentIfEmpty(): void {
    for (const dir of this.layout.parentDirs()) {
      try {
        rmdirSync(dir);
      } catch {
        /* missing, or still in use: nothing to do */
      }
    }
  }

  /** Sandbox ids that have a group (any hierarchy), for reconciling after a restart. */
  listIds(): string[] {
    const ids = new Set<string>();
    for (const p of this.layout.parentDirs()) {
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
