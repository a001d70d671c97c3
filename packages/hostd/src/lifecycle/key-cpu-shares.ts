// CPU fairness between keys: under contention each key's sandboxes together weigh about
// KEY_CPU_WEIGHT, however many it runs. Every sandbox's group had the same weight, so a key with
// ten busy sandboxes got ten shares of the host to another key's one (outside tester tj: a task
// in the other key's sandbox ran 10x slower). Each sandbox's own vcpus quota still holds.
//
// The weights are flat siblings' (no cgroup level per key, which a warm-pool sandbox, booted
// before it has an owner, could not be moved into with its memory charges). To keep a create
// from rewriting all of a big key's groups, a key's sandboxes are reweighed only when their
// count left the band [base / REWEIGH_RATIO, base * REWEIGH_RATIO] around the count they were
// last weighed for: amortized, a few writes a create, and a key's total weight stays within
// that ratio of KEY_CPU_WEIGHT. The writes run after the call that caused them, in batches.

/** A key's weight, in cpu.weight units; one sandbox alone gets all of it (cgroup-limits.ts). */
export const KEY_CPU_WEIGHT = 10_000;
export const REWEIGH_RATIO = 1.25;
const WRITES_PER_TURN = 256;

export interface Weighable {
  setCpuWeight(weight: number): void;
  readonly closed: boolean;
}

interface KeyShare {
  members: Set<Weighable>;
  /** The member count the key's weights were last computed for. */
  base: number;
}

export function weightFor(count: number): number {
  return Math.max(1, Math.round(KEY_CPU_WEIGHT / Math.max(1, count)));
}

export class KeyCpuShares {
  private readonly keys = new Map<string, KeyShare>();
  private readonly pending = new Map<Weighable, number>();
  private scheduled = false;

  /** `defer` runs a batch of writes later (setImmediate; a test may run them at once). */
  constructor(private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn)) {}

  join(owner: string, m: Weighable): void {
    let key = this.keys.get(owner);
    if (!key) {
      key = { members: new Set(), base: 1 };
      this.keys.set(owner, key);
    }
    key.members.add(m);
    if (this.outOfBand(key)) this.reweigh(key);
    else this.queue(m, weightFor(key.base));
  }

  leave(owner: string, m: Weighable): void {
    const key = this.keys.get(owner);
    if (!key?.members.delete(m)) return;
    this.pending.delete(m);
    if (key.members.size === 0) this.keys.delete(owner);
    else if (this.outOfBand(key)) this.reweigh(key);
  }

  clear(): void {
    this.keys.clear();
    this.pending.clear();
  }

  /** The weight the key's sandboxes have (or are about to have); undefined for a key with none. */
  weightOf(owner: string): number | undefined {
    const key = this.keys.get(owner);
    return key ? weightFor(key.base) : undefined;
  }

  private outOfBand(key: KeyShare): boolean {
    const n = key.members.size;
    return n > key.base * REWEIGH_RATIO || n < key.base / REWEIGH_RATIO;
  }

  private reweigh(key: KeyShare): void {
    key.base = key.members.size;
    const w = weightFor(key.base);
    for (const m of key.members) this.queue(m, w);
  }

  private queue(m: Weighable, weight: number): void {
    this.pending.set(m, weight);
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => this.flush());
  }

  private flush(): void {
    let n = 0;
    for (const [m, w] of this.pending) {
      this.pending.delete(m);
      if (!m.closed) m.setCpuWeight(w);
      if (++n === WRITES_PER_TURN) break;
    }
    this.scheduled = false;
    if (this.pending.size) {
      this.scheduled = true;
      this.defer(() => this.flush());
    }
  }
}
