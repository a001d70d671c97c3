// Usage per owner: sandbox-seconds, GB-seconds of memory, execs and forks. Finished sandboxes
// are added when they close; running ones are added on read, so a reading is always current.
import type { Db } from "../store/db.js";

export const usageMigration = `CREATE TABLE usage (
  owner TEXT PRIMARY KEY,
  sandboxes_created INTEGER NOT NULL DEFAULT 0,
  sandbox_seconds REAL NOT NULL DEFAULT 0,
  gb_seconds REAL NOT NULL DEFAULT 0,
  execs INTEGER NOT NULL DEFAULT 0,
  forks INTEGER NOT NULL DEFAULT 0
);`;

export interface UsageReport {
  owner: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

export interface RunningSandbox {
  createdAt: number;
  memoryMb: number;
}

export class UsageStore {
  private readonly bump;

  constructor(private readonly db: Db) {
    this.bump = db.prepare(
      `INSERT INTO usage (owner, sandboxes_created, sandbox_seconds, gb_seconds, execs, forks)
       VALUES (@owner, @created, @seconds, @gbs, @execs, @forks)
       ON CONFLICT(owner) DO UPDATE SET
         sandboxes_created = sandboxes_created + @created, sandbox_seconds = sandbox_seconds + @seconds,
         gb_seconds = gb_seconds + @gbs, execs = execs + @execs, forks = forks + @forks`,
    );
  }

  private add(owner: string, d: Partial<{ created: number; seconds: number; gbs: number; execs: number; forks: number }>): void {
    this.bump.run({ owner, created: 0, seconds: 0, gbs: 0, execs: 0, forks: 0, ...d });
  }

  sandboxCreated(owner: string): void {
    this.add(owner, { created: 1 });
  }

  sandboxClosed(owner: string, s: RunningSandbox, at = Date.now()): void {
    const seconds = Math.max(0, (at - s.createdAt) / 1000);
    this.add(owner, { seconds, gbs: (seconds * s.memoryMb) / 1024 });
  }

  exec(owner: string): void {
    this.add(owner, { execs: 1 });
  }

  forks(owner: string, n: number): void {
    this.add(owner, { forks: n });
  }

  /** Every owner with recorded usage (metrics report each). */
  owners(): string[] {
    return (this.db.prepare(`SELECT owner FROM usage ORDER BY owner`).all() as { owner: string }[]).map((r) => r.owner);
  }

  report(owner: string, running: RunningSandbox[], at = Date.now()): UsageReport {
    const row = (this.db.prepare(`SELECT * FROM usage WHERE owner = ?`).get(owner) as UsageReport | undefined) ?? {
      owner,
      sandboxes_created: 0,
      sandbox_seconds: 0,
      gb_seconds: 0,
      execs: 0,
      forks: 0,
    };
    let seconds = row.sandbox_seconds;
    let gbs = row.gb_seconds;
    for (const s of running) {
      const live = Math.max(0, (at - s.createdAt) / 1000);
      seconds += live;
      gbs += (live * s.memoryMb) / 1024;
    }
    return { ...row, owner, sandbox_seconds: Math.round(seconds * 1000) / 1000, gb_seconds: Math.round(gbs * 1000) / 1000 };
  }
}
