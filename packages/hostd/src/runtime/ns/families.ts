// Fork families: a sandbox and its fork descendants share a family init (pid 1 of their pid
// namespace, docs/security.md "Fork families"). This is hostd's record of who is in which,
// so the family init and its cgroup go exactly when its last member does.
import crypto from "node:crypto";

/** The family init only reaps: a small cgroup of its own, so closing one sandbox never kills it. */
export const FAMILY_LIMITS = { memoryMb: 64, vcpus: 0.1, pidsMax: 16 };
const FAMILY_PREFIX = "fam_";

export function newFamilyId(): string {
  return `${FAMILY_PREFIX}${crypto.randomBytes(8).toString("hex")}`;
}

/** Family cgroups share the sandboxes' cgroup parent: told apart by their id. */
export function isFamilyId(id: string): boolean {
  return id.startsWith(FAMILY_PREFIX);
}

export class Families {
  /** Family id -> ids of its live sandboxes. */
  private readonly members = new Map<string, Set<string>>();
  /** Family id -> members being forked into it (not yet joined). */
  private readonly incoming = new Map<string, number>();

  /** Members the family will have once `n` more, and every fork under way, have joined. */
  expect(familyId: string, n: number): number {
    const now = (this.incoming.get(familyId) ?? 0) + n;
    this.incoming.set(familyId, now);
    return (this.members.get(familyId)?.size ?? 0) + now;
  }

  /** Those `n` have joined or failed. */
  arrived(familyId: string, n: number): void {
    const left = (this.incoming.get(familyId) ?? 0) - n;
    if (left > 0) this.incoming.set(familyId, left);
    else this.incoming.delete(familyId);
  }

  join(familyId: string, id: string): void {
    let members = this.members.get(familyId);
    if (!members) this.members.set(familyId, (members = new Set()));
    members.add(id);
  }

  has(familyId: string): boolean {
    return this.members.has(familyId);
  }

  isLastOf(familyId: string, id: string): boolean {
    const members = this.members.get(familyId);
    return members !== undefined && members.size === 1 && members.has(id);
  }

  /** Drops a member from its family; true when it was the last one (the family is forgotten too). */
  forget(familyId: string, id: string): boolean {
    const members = this.members.get(familyId);
    members?.delete(id);
    if (members && members.size > 0) return false;
    this.members.delete(familyId);
    return true;
  }

  /** Drops a member that never started (a failed fork); the family stays known even if empty. */
  drop(familyId: string, id: string): void {
    this.members.get(familyId)?.delete(id);
  }
}
