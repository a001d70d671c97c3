// Brings a SQLite database to the newest schema version, one migration per transaction.
import type Database from "better-sqlite3";
import { checkOrder, type Migration } from "../migrations/migration.js";
import { sqliteMigrations } from "../migrations/sqlite.js";

export function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Applies the migrations above the database's version, up to `upTo` (default: all). */
export function migrate(db: Database.Database, migrations: readonly Migration[] = sqliteMigrations, upTo = migrations.length): void {
  checkOrder(migrations);
  for (const m of migrations.slice(schemaVersion(db), upTo)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
