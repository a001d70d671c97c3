// The cgroup v2 backend's limits (one unified tree): a sandbox's group, the shared parent with
// its controllers enabled, and the parent's ceiling.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { readText, write } from "./cgroup-files.js";
import type { CgroupLayout } from "./cgroup-layout.js";
import { CPU_PERIOD_US, type GroupLimitValues } from "./cgroup-limits.js";

const V2_CONTROLLERS = ["memory", "cpu", "pids"] as const;

/** Makes the v2 parent group and enables the controllers for it and its children. */
function ensureV2Parent(l: CgroupLayout): string {
  const parentDir = path.join(l.root, l.parent);
  mkdirSync(parentDir, { recursive: true });
  const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(" ");
  for (const dir of [l.root, parentDir]) {
    const have = (readText(path.join(dir, "cgroup.subtree_control"))).split(/\s+/);
    if (V2_CONTROLLERS.every((c) => have.includes(c))) continue;
    write(path.join(dir, "cgroup.subtree_control"), enable);
  }
  return parentDir;
}

export function createV2(l: CgroupLayout, id: string, v: GroupLimitValues): void {
  ensureV2Parent(l);
  const dir = l.dir(id, "");
  mkdirSync(dir);
  write(path.join(dir, "memory.max"), String(v.memBytes));
  if (existsSync(path.join(dir, "memory.swap.max"))) {
    write(path.join(dir, "memory.swap.max"), "0");
  }
  write(path.join(dir, "cpu.max"), `${v.quotaUs} ${CPU_PERIOD_US}`);
  write(path.join(dir, "pids.max"), String(v.pidsMax));
}

export function setCeilingV2(l: CgroupLayout, memBytes: string, pidsMax: string): void {
  const dir = ensureV2Parent(l);
  write(path.join(dir, "memory.max"), memBytes);
  write(path.join(dir, "pids.max"), pidsMax);
}
