// Per-user kernel counters (docs/security.md, "Per-user kernel counters"; jail/counters.py).
// Namespaces, inotify and fanotify objects are counted per (user namespace, uid) and charged
// to every ancestor namespace too. Each sandbox family gets ceilings of its own; all families
// draw on one host-level budget, the sandbox uid's (not host root's), which hostd raises to the
// sum of the ceilings so one tenant cannot use up another's.
import fs from "node:fs";

/** A family's ceilings, written into its user namespace's /proc/sys/user by the jail. */
export interface FamilyLimits {
  /** Namespaces of each kind (net, mnt, uts, ipc, pid, cgroup, time). */
  namespaces: number;
  inotifyInstances: number;
  inotifyWatches: number;
  fanotifyGroups: number;
  fanotifyMarks: number;
}

/** Namespaces of each kind a tenant's own programs may make in a family, beyond the jail's. */
export const TENANT_NAMESPACES = 64;
/** Per member: inotify instances as Linux's own per-user default; watches as on a small desktop. */
const PER_MEMBER = { inotifyInstances: 128, inotifyWatches: 16384, fanotifyGroups: 16, fanotifyMarks: 8192 };

/**
 * The ceilings of a family of `members` sandboxes (a fork tree grows it). The jail itself makes
 * one namespace of each kind per member, and the family's pid namespace.
 */
export function familyLimits(members: number): FamilyLimits {
  const m = Math.max(1, members);
  return {
    namespaces: m + 1 + TENANT_NAMESPACES,
    inotifyInstances: PER_MEMBER.inotifyInstances * m,
    inotifyWatches: PER_MEMBER.inotifyWatches * m,
    fanotifyGroups: PER_MEMBER.fanotifyGroups * m,
    fanotifyMarks: PER_MEMBER.fanotifyMarks * m,
  };
}

/** The host sysctls holding the sandbox uid's budget for each family ceiling. */
const FAMILY_BUDGETS: [keyof FamilyLimits, string[]][] = [
  ["namespaces", ["cgroup", "ipc", "mnt", "net", "pid", "time", "uts"].map((k) => `user/max_${k}_namespaces`)],
  ["inotifyInstances", ["fs/inotify/max_user_instances"]],
  ["inotifyWatches", ["fs/inotify/max_user_watches"]],
  ["fanotifyGroups", ["fs/fanotify/max_user_groups"]],
  ["fanotifyMarks", ["fs/fanotify/max_user_marks"]],
];

/**
 * Counters the kernel keeps per host uid only (not per namespace), which no family ceiling can
 * split: epoll watches and pipe buffer slots ("pages"); and the host's one file table, whose
 * limit only CAP_SYS_ADMIN (hostd) is spared. Each costs kernel memory charged to the sandbox's
 * own cgroup (an epoll watch ~180 bytes, measured; a pipe slot its 40-byte `struct
 * pipe_buffer` even before any page is written; an open file its ~230-byte `struct file`), so
 * the limit is set past what the sandboxes' memory ceiling can hold: each sandbox is held by
 * its memory limit instead.
 */
const BYTES_PER = { "fs/epoll/max_user_watches": 128, "fs/pipe-user-pages-soft": 32, "fs/file-max": 128 };
/** Terminals a sandbox may hold at once: its devpts is mounted with max= this (jail/rootfs.py). */
export const PTYS_PER_SANDBOX = 256;
/** kernel.pty.max's own maximum (NR_UNIX98_PTY_MAX). */
const PTY_MAX_LIMIT = 1 << 20;

/** Where 0 means no limit (it is then left alone). */
const ZERO_IS_UNLIMITED = new Set(["fs/pipe-user-pages-soft"]);

/**
 * What the host's per-user limits of the sandbox uid must hold: every family's ceilings with
 * at most `sandboxes` sandboxes, each possibly a family of its own, and the per-uid counters
 * for `memoryMb` of sandboxes' memory (the ceiling over all of them). By sysctl path.
 */
export function hostBudgets(sandboxes: number, memoryMb: number): Map<string, number> {
  const all = { ...familyLimits(sandboxes), namespaces: sandboxes * (2 + TENANT_NAMESPACES) };
  const needs = new Map<string, number>();
  for (const [key, files] of FAMILY_BUDGETS) for (const f of files) needs.set(f, all[key]);
  for (const [f, bytes] of Object.entries(BYTES_PER)) needs.set(f, Math.ceil((memoryMb * 1024 * 1024) / bytes));
  // Every sandbox's devpts draws on the host's one count of terminals; the host's own
  // /dev/pts keeps kernel.pty.reserve (1,024 by default) beyond it.
  needs.set("kernel/pty/max", Math.min(PTY_MAX_LIMIT, PTYS_PER_SANDBOX * sandboxes + 1024));
  return needs;
}

export interface BudgetChange {
  sysctl: string;
  from: number;
  to: number;
  /** Why it could not be raised (the user.* ones need CAP_SYS_RESOURCE, which some hosts withhold from root). */
  error?: string;
}

/**
 * Raises (never lowers) each host limit to its need (hostBudgets). These are per-uid limits
 * for every host user. Returns what changed, and what could not (with `error`).
 */
export function raiseHostBudgets(needs: Map<string, number>, procSys = "/proc/sys"): BudgetChange[] {
  const changes: BudgetChange[] = [];
  for (const [file, want] of needs) {
    const need = Math.min(2 ** 31 - 1, want);
    const p = `${procSys}/${file}`;
    let now: number;
    try {
      now = Number(fs.readFileSync(p, "utf8").trim());
    } catch {
      continue; // this kernel has no such counter (e.g. no fanotify)
    }
    if (now >= need || (now === 0 && ZERO_IS_UNLIMITED.has(file))) continue;
    const change: BudgetChange = { sysctl: file.replaceAll("/", "."), from: now, to: need };
    try {
      fs.writeFileSync(p, `${need}\n`);
    } catch (err) {
      change.error = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    changes.push(change);
  }
  return changes;
}
