// Usage snapshots in SQLite: one row per owner and time, pruned by age.
import type Database from "better-sqlite3";
import type { UsageHistoryTable, UsagePoint } from "../store.js";

const COLUMNS = "owner, at, sandboxes_created, sandbox_seconds, gb_seconds, execs, forks";

export class SqliteUsageHistoryTable implements UsageHistoryTable {
  private readonly insertMany;
  private readonly sinceAll;
  private readonly sinceOwner;
  private readonly pruneBefore;

  constructor(db: Database.Database) {
    const insert = db.prepare(
      `INSERT OR REPLACE INTO usage_history (${COLUMNS})
       VALUES (@owner, @at, @sandboxes_created, @sandbox_seconds, @gb_seconds, @execs, @forks)`,
    );
    this.insertMany = db.transaction((points: UsagePoint[]) => {
      for (const p of points) insert.run(p);
    });
    this.sinceAll = db.prepare(`SELECT ${COLUMNS} FROM usage_history WHERE at >= ? ORDER BY at, owner`);
    this.sinceOwner = db.prepare(`SELECT ${COLUMNS} FROM usage_history WHERE at >= ? AND owner = ? ORDER BY at`);
    this.pruneBefore = db.prepare(`DELETE FROM usage_history WHERE at < ?`);
  }

  append(points: UsagePoint[]): void {
    this.insertMany(points);
  }

  since(since: number, owner?: string): UsagePoint[] {
    return (owner === undefined ? this.sinceAll.all(since) : this.sinceOwner.all(since, owner)) as UsagePoint[];
  }

  prune(before: number): number {
    return this.pruneBefore.run(before).changes;
  }
}
