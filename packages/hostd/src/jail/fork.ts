// Node's side of fork: runs jail/fork.py, which starts the children's inits inside the
// parent's family (or, for the warm pool's spawn, in new families nested below it) and has the
// parent's guest kernel fork into them (DESIGN.md section 5).
import { PodflareError } from "@podflare/protocol";
import { JailError, answer, failure, type HelperResult } from "./helper-process.js";
import { jailServer } from "./jail-server.js";
import type { FamilyLimits } from "./kernel-counters.js";
import type { FamilyRef } from "./launcher.js";

export interface ForkSpec {
  family: FamilyRef;
  uidBase: number;
  uidCount: number;
  guestDir: string;
  parent: { initPid: number; initStartTime: string; socket: string; cgroupProcs: string[] };
  children: { id: string; rootfs: string; socket: string; cgroupProcs: string[]; familyCgroupProcs?: string[] }[];
  /**
   * The warm pool's spawn: the parent is a pristine zygote kernel and each child gets a family
   * of its own, nested below the parent's (docs/security.md, "Warm pool spawn"); children need familyCgroupProcs.
   */
  fresh?: boolean;
  /** With fresh: each new family's ceilings on per-user kernel counters. */
  familyLimits?: FamilyLimits;
}

export interface ForkedChild {
  id: string;
  initPid: number;
  initStartTime: string;
  /** Host pid of the child's guest kernel. */
  kernelPid: number;
  /** A fresh child's own family init. */
  family?: { pid: number; startTime: string };
}

/** Runs jail/fork.py (through the jail server) once the children's snapshots exist. */
export function forkKernel(spec: ForkSpec, timeoutMs = 60_000): Promise<{ children: ForkedChild[]; landlock: boolean }> {
  const result = jailServer().request("fork", { ...spec, family: { pid: spec.family.pid, startTime: Number(spec.family.startTime) } }, timeoutMs);
  return finishFork(spec, result);
}

async function finishFork(spec: ForkSpec, result: Promise<HelperResult>): Promise<{ children: ForkedChild[]; landlock: boolean }> {
  const r = await result;
  const a = answer(r.stdout);
  if (r.code !== 0 || !Array.isArray(a?.children)) {
    if (a?.code === "fork_depth" && typeof a.error === "string") throw new PodflareError("conflict", a.error.replace(/^fork: /, ""));
    if (a?.code === "conflict" && typeof a.error === "string") throw new PodflareError("conflict", a.error);
    const err = failure("fork", r);
    // An unexpected failure: the helper's traceback tail says where.
    const tail = r.stderr.trim().split("\n").slice(-4).join(" | ");
    if (tail) err.message += ` (${tail})`;
    throw err;
  }
  const children = (a.children as Record<string, unknown>[]).map((c) => ({
    id: String(c.id),
    initPid: Number(c.initPid),
    initStartTime: String(c.initStartTime),
    kernelPid: Number(c.kernelPid),
    ...(spec.fresh ? { family: { pid: Number(c.familyPid), startTime: String(c.familyStartTime) } } : {}),
  }));
  if (children.length !== spec.children.length) throw new JailError("fork: helper answered for the wrong number of children");
  return { children, landlock: a.landlock === true };
}
