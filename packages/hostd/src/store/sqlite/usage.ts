// Usage counters per owner in SQLite: the usage table, added to with one upsert.
import type Database from "better-sqlite3";
import type { UsageCounts, UsageTable } from "../store.js";

export class SqliteUsageTable implements UsageTable {
  private readonly bump;
  private readonly byOwner;
  private readonly allOwners;

  constructor(db: Database.Database) {
    this.bump = db.prepare(
      `INSERT INTO usage (owner, sandboxes_created, sandbox_seconds, gb_seconds, execs, forks)
       VALUES (@owner, @created, @seconds, @gbs, @execs, @forks)
       ON CONFLICT(owner) DO UPDATE SET
         sandboxes_created = sandboxes_created + @created, sandbox_seconds = sandbox_seconds + @seconds,
         gb_seconds = gb_seconds + @gbs, execs = execs + @execs, forks = forks + @forks`,
    );
    this.byOwner = db.prepare(`SELECT sandboxes_created, sandbox_seconds, gb_seconds, execs, forks FROM usage WHERE owner = ?`);
    this.allOwners = db.prepare(`SELECT owner FROM usage ORDER BY owner`).pluck();
  }

  add(owner: string, d: Partial<UsageCounts>): void {
    this.bump.run({
      owner,
      created: d.sandboxes_created ?? 0,
      seconds: d.sandbox_seconds ?? 0,
      gbs: d.gb_seconds ?? 0,
      execs: d.execs ?? 0,
      forks: d.forks ?? 0,
    });
  }

  get(owner: string): UsageCounts | undefined {
    return this.byOwner.get(owner) as UsageCounts | undefined;
  }

  owners(): string[] {
    return this.allOwners.all() as string[];
  }
}
