// Usage over time: every `intervalMs` each owner's totals (running sandboxes counted up to then)
// are written as one point, and points older than `retentionMs` are dropped. An owner whose
// totals did not move since its last point gets none, so idle keys cost no rows.
import type { UsageReport } from "@podflare/protocol";
import type { UsageHistoryTable, UsagePoint } from "../store/store.js";
import { systemClock, type Clock } from "./clock.js";

/** What one owner's line in GET /v1/usage/history holds at most: plenty for a chart. */
export const MAX_POINTS_PER_OWNER = 500;

export interface UsageSource {
  /** Every owner with counters. */
  owners(): string[];
  /** The owner's totals now, running sandboxes included. */
  report(owner: string): UsageReport;
}

export interface UsageHistoryOptions {
  intervalMs: number;
  retentionMs: number;
  clock?: Clock;
  log?: (msg: string) => void;
}

export class UsageHistory {
  private readonly clock: Clock;
  private readonly last = new Map<string, string>();
  private ticker: { stop(): void } | null = null;

  constructor(
    private readonly table: UsageHistoryTable,
    private readonly source: UsageSource,
    private readonly opts: UsageHistoryOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  start(): void {
    this.ticker = this.clock.every(this.opts.intervalMs, () => {
      try {
        this.snapshot();
      } catch (err) {
        // A full disk or a locked database must not stop the daemon; the next tick tries again.
        this.opts.log?.(`usage snapshot failed: ${(err as Error).message}`);
      }
    });
  }

  stop(): void {
    this.ticker?.stop();
    this.ticker = null;
  }

  /** Takes one snapshot now and prunes; returns how many points it wrote. */
  snapshot(): number {
    const at = this.clock.now();
    const points: UsagePoint[] = [];
    for (const owner of this.source.owners()) {
      const point = this.current(owner, at);
      const { at: _at, ...counts } = point;
      const sig = JSON.stringify(counts);
      if (this.last.get(owner) === sig) continue;
      this.last.set(owner, sig);
      points.push(point);
    }
    if (points.length) this.table.append(points);
    this.table.prune(at - this.opts.retentionMs);
    return points.length;
  }

  /** The owner's totals now, as a point (not stored). */
  current(owner: string, at = this.clock.now()): UsagePoint {
    const r = this.source.report(owner);
    return { owner, at, sandboxes_created: r.sandboxes_created, sandbox_seconds: r.sandbox_seconds, gb_seconds: r.gb_seconds, execs: r.execs, forks: r.forks };
  }

  /**
   * Stored points since `since` (ms), everyone's or the owner's, oldest first; at most
   * `maxPerOwner` per owner, evenly spread and always with its latest (a week at 60 s is 10 080).
   */
  since(since: number, owner?: string, maxPerOwner = MAX_POINTS_PER_OWNER): UsagePoint[] {
    const points = this.table.since(Math.max(since, this.clock.now() - this.opts.retentionMs), owner);
    const byOwner = new Map<string, UsagePoint[]>();
    for (const p of points) {
      const list = byOwner.get(p.owner);
      if (list) list.push(p);
      else byOwner.set(p.owner, [p]);
    }
    if ([...byOwner.values()].every((l) => l.length <= maxPerOwner)) return points;
    const kept = new Set<UsagePoint>();
    for (const list of byOwner.values()) {
      if (list.length <= maxPerOwner) list.forEach((p) => kept.add(p));
      else for (let i = 0; i < maxPerOwner; i++) kept.add(list[Math.round((i * (list.length - 1)) / (maxPerOwner - 1))]!);
    }
    return points.filter((p) => kept.has(p));
  }

  /** Owners that have usage, for an admin's view. */
  owners(): string[] {
    return this.source.owners();
  }
}
