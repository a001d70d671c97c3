// Stopping what runs in a group: freeze and thaw, kill everything (cgroup.kill, or freeze and
// SIGKILL where there is none), kill all but some, and wait for the group to empty.
import { existsSync } from "node:fs";
import path from "node:path";
import { keyed, readText, sleep, write, SETTLE_POLL_MS } from "./cgroup-files.js";
import type { CgroupLayout } from "./cgroup-layout.js";
import { pids, pidsOrNone } from "./cgroup-usage.js";

/** CgroupManager.freeze/thaw's default: how long the kernel may take to settle the state. */
export const FREEZE_TIMEOUT_MS = 5000;

export async function setFrozen(l: CgroupLayout, id: string, frozen: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (l.version === 2) {
    const dir = l.dir(id, "");
    write(path.join(dir, "cgroup.freeze"), frozen ? "1" : "0");
    while (keyed(readText(path.join(dir, "cgroup.events")), "frozen") !== (frozen ? 1 : 0)) {
      if (Date.now() > deadline) throw new Error(`cgroup ${id} did not ${frozen ? "freeze" : "thaw"}`);
      await sleep(SETTLE_POLL_MS);
    }
    return;
  }
  const file = path.join(l.dir(id, "freezer"), "freezer.state");
  const want = frozen ? "FROZEN" : "THAWED";
  write(file, want);
  while ((readText(file)).trim() !== want) {
    if (Date.now() > deadline) throw new Error(`cgroup ${id} did not ${frozen ? "freeze" : "thaw"}`);
    await sleep(SETTLE_POLL_MS);
    write(file, want);
  }
}

/** Kill every process in the group and wait until it is empty. No-op for a missing group. */
export async function killAll(l: CgroupLayout, id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const v2Kill = l.version === 2 ? path.join(l.dir(id, ""), "cgroup.kill") : "";
  const useKill = v2Kill !== "" && existsSync(v2Kill);
  if (useKill) write(v2Kill, "1");
  // cgroup.procs lists no zombies: an init whose zombie waits for the host's pid 1 to reap
  // it still counts in pids.current for a moment, but nothing in the group runs any more.
  while (pidsOrNone(l, id).length > 0) {
    if (Date.now() > deadline) throw new Error(`cgroup ${id} still has processes after kill`);
    if (!useKill) await killFrozen(l, id);
    await sleep(SETTLE_POLL_MS);
  }
}

/** Waits up to timeoutMs for the group to hold no process; true if it emptied. */
export async function waitEmpty(l: CgroupLayout, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidsOrNone(l, id).length > 0) {
    if (Date.now() > deadline) return false;
    await sleep(1);
  }
  return true;
}

/** Without cgroup.kill: freeze (so nothing forks or exits and frees its pid), SIGKILL every
 * task, thaw so the kills land. */
async function killFrozen(l: CgroupLayout, id: string): Promise<void> {
  await setFrozen(l, id, true, FREEZE_TIMEOUT_MS).catch(() => undefined);
  const tasksFile = l.version === 2
    ? path.join(l.dir(id, ""), "cgroup.threads")
    : path.join(l.dir(id, "freezer"), "tasks");
  let tasks: number[] = [];
  try {
    tasks = readText(tasksFile).split("\n").filter((line) => line.trim() !== "").map(Number);
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
  await setFrozen(l, id, false, FREEZE_TIMEOUT_MS).catch(() => undefined);
}

/**
 * SIGKILLs every process of the group except `keep`, frozen meanwhile so that a fork bomb
 * cannot make new ones between the listing and the kills; repeats until only `keep` is
 * left. Returns how many processes it killed.
 */
export async function killAllBut(l: CgroupLayout, id: string, keep: Set<number>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const killed = new Set<number>();
  for (;;) {
    await setFrozen(l, id, true, FREEZE_TIMEOUT_MS);
    let victims: number[];
    try {
      victims = pids(l, id).filter((pid) => !keep.has(pid));
      for (const pid of victims) {
        try {
          process.kill(pid, "SIGKILL");
          killed.add(pid);
        } catch {
          /* already gone */
        }
      }
    } finally {
      await setFrozen(l, id, false, FREEZE_TIMEOUT_MS);
    }
    if (victims.length === 0) return killed.size;
    if (Date.now() > deadline) throw new Error(`cgroup ${id} still has processes after ${killed.size} kills`);
    await sleep(SETTLE_POLL_MS);
  }
}
