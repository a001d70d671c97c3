// Node's side of the jail: run the privileged Python helpers (jail/launch.py, jail/enter.py)
// through the jail server with a JSON config and turn their one-line JSON answers into values
// or errors. Node itself never calls unshare/setns/mount: a multi-threaded process must not.

import { readFileSync } from "node:fs";
import { JailError, answer, failure, runHelper } from "./helper-process.js";
import { jailServer } from "./jail-server.js";
import type { FamilyLimits } from "./kernel-counters.js";

export { JAIL_DIR, JailError, PYTHON, answer, failure, runHelper, spawnHelper, type HelperResult } from "./helper-process.js";

export interface SandboxSpec {
  /** Sandbox id; also the default hostname. [A-Za-z0-9][A-Za-z0-9_.-]{0,62} */
  id: string;
  /** Host path of the sandbox's root filesystem (owned by the mapped uid range). */
  rootfs: string;
  /** Host directory bind-mounted read-only at /.podflare/guest (must be world-readable). */
  guestDir: string;
  /** First host uid/gid of the range root inside maps to (>= 65536). */
  uidBase: number;
  /** Size of the mapped range; default 65536. */
  uidCount?: number;
  hostname?: string;
  /** cgroup.procs files the sandbox is placed in (CgroupManager.procsFiles). */
  cgroupProcs: string[];
  /** Where a new family init goes (default: cgroupProcs). Ignored when `family` is set. */
  familyCgroupProcs?: string[];
  /** Join this running family (fork children) instead of starting a new one. */
  family?: FamilyRef;
  /**
   * A new family's ceilings on per-user kernel counters; none for the warm pool's zygote (whose
   * maker also takes unlimited rlimits where it can: jail/family_owners.py).
   */
  familyLimits?: FamilyLimits;
}

/** A fork family's init: pid 1 of the family pid namespace, reaper of every process in it. */
export interface FamilyRef {
  pid: number;
  startTime: string | number;
}

/**
 * A running sandbox's anchor process: its host pid plus its start time, an opaque token
 * (decimal clock ticks since boot) that guards against pid reuse. Store both to re-adopt the
 * sandbox after a hostd restart. Inputs also accept the start time as a number.
 */
export interface SandboxInit {
  initPid: number;
  initStartTime: string;
  familyPid: number;
  familyStartTime: string;
}

export type SandboxRef = { initPid: number; initStartTime: string | number };

export interface ProcessSpec {
  argv: string[];
  env?: Record<string, string>;
  /** Working directory inside the sandbox; "/" if missing. */
  cwd?: string;
  /** Host path of a Unix socket to create (mode 0600) and pass as fd 3 (PODFLARE_LISTEN_FD). */
  listenSocket?: string;
  /** Install the seccomp filter; only tests turn this off, to compare. Default true. */
  seccomp?: boolean;
}

export type EnterConfig = SandboxRef & ProcessSpec & { cgroupProcs: string[] };

export interface RunResult {
  /** Exit status; 128 + signal number when killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface HelperOptions {
  timeoutMs?: number;
}

/** Start a sandbox's init (namespaces, filesystem view). It outlives hostd. */
export async function launchSandbox(spec: SandboxSpec, opts: HelperOptions = {}): Promise<SandboxInit> {
  const config = spec.family ? { ...spec, family: { pid: spec.family.pid, startTime: Number(spec.family.startTime) } } : spec;
  const r = await jailServer().request("launch", config, opts.timeoutMs ?? 20_000);
  const a = answer(r.stdout);
  if (r.code !== 0 || typeof a?.initPid !== "number" || typeof a.familyPid !== "number") throw failure("launch", r);
  return {
    initPid: a.initPid,
    initStartTime: String(a.initStartTime),
    familyPid: a.familyPid,
    familyStartTime: String(a.familyStartTime),
  };
}

/** Start a process (a guest kernel) inside a running sandbox; resolves once it has exec'd. */
export async function startKernel(cfg: EnterConfig, opts: HelperOptions = {}): Promise<{ pid: number }> {
  const r = await jailServer().request("enter", enterConfig(cfg, false), opts.timeoutMs ?? 10_000);
  const a = answer(r.stdout);
  if (r.code !== 0 || typeof a?.pid !== "number") throw failure("enter", r);
  return { pid: a.pid };
}

/**
 * Run argv inside a sandbox and wait for it (tests, debugging). stdin is empty.
 * Throws when the process could not be started at all; otherwise returns its status.
 */
export async function runInSandbox(
  cfg: SandboxRef & Omit<ProcessSpec, "argv"> & { cgroupProcs: string[] },
  argv: string[],
  opts: HelperOptions = {},
): Promise<RunResult> {
  const r = await runHelper("enter.py", enterConfig({ ...cfg, argv }, true), opts.timeoutMs ?? 60_000);
  if (r.timedOut) throw new JailError(`run ${argv[0] ?? ""}: timed out`);
  if (r.code === 125) {
    // enter.py's own failure (not the program's exit status 125): its JSON line on stderr.
    const a = answer(r.stderr);
    if (typeof a?.error === "string" && a.error.startsWith("enter: ")) throw new JailError(a.error);
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

function enterConfig(cfg: EnterConfig, wait: boolean): object {
  const initStartTime = Number(cfg.initStartTime);
  if (!Number.isSafeInteger(initStartTime)) throw new JailError(`enter: bad initStartTime ${cfg.initStartTime}`);
  return { ...cfg, initStartTime, wait };
}

/** Field 22 of /proc/PID/stat (start time in clock ticks), or null if pid does not exist. */
export function processStartTime(pid: number): string | null {
  const fields = statFields(pid);
  return fields?.[19] ?? null;
}

/** True if pid is running (not a zombie) and is the process that started at startTime. */
export function isAlive(pid: number, startTime: string | number): boolean {
  const fields = statFields(pid);
  return fields !== null && fields[0] !== "Z" && fields[19] === String(startTime);
}

/** /proc/PID/stat fields from field 3 (state) on; comm may contain spaces and parens. */
function statFields(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}
