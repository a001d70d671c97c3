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

/** The sum of every family's ceilings with at most `sandboxes` sandboxes, each possibly a family of its own. */
export function hostBudgets(sandboxes: number): FamilyLimits {
  const all = familyLimits(sandboxes);
  return { ...all, namespaces: sandboxes * (2 + TENANT_NAMESPACES) };
}

/** The host sysctls holding the sandbox uid's budget, by the family ceiling they must cover. */
const BUDGETS: [keyof FamilyLimits, string[]][] = [
  ["namespaces", ["cgroup", "ipc", "mnt", "net", "pid", "time", "uts"].map((k) => `user/max_${k}_namespaces`)],
  ["inotifyInstances", ["fs/inotify/max_user_instances"]],
  ["inotifyWatches", ["fs/inotify/max_user_watches"]],
  ["fanotifyGroups", ["fs/fanotify/max_user_groups"]],
  ["fanotifyMarks", ["fs/fanotify/max_user_marks"]],
];

export interface BudgetChange {
  sysctl: string;
  from: number;
  to: number;
  /** Why it could not be raised (the user.* ones need CAP_SYS_RESOURCE, which some hosts withhold from root). */
  error?: string;
}

/**
 * Raises (never lowers) each host-level budget to `need` (hostBudgets). These are per-uid
 * limits for every host user; sandboxes' kernel memory for them is charged to their own
 * cgroups. Returns what changed, and what could not (with `error`).
 */
export function raiseHostBudgets(needs: FamilyLimits, procSys = "/proc/sys"): BudgetChange[] {
  const changes: BudgetChange[] = [];
  for (const [key, files] of BUDGETS) {
    const need = Math.min(2 ** 31 - 1, needs[key]);
    for (const file of files) {
      const p = `${procSys}/${file}`;
      let now: number;
      try {
        now = Number(fs.readFileSync(p, "utf8").trim());
      } catch {
        continue; // this kernel has no such counter (e.g. no fanotify)
      }
      if (now >= need) continue;
      const change: BudgetChange = { sysctl: file.replaceAll("/", "."), from: now, to: need };
      try {
        fs.writeFileSync(p, `${need}\n`);
      } catch (err) {
        change.error = (err as NodeJS.ErrnoException).code ?? String(err);
      }
      changes.push(change);
    }
  }
  return changes;
}
