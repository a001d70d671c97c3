// The SQLite store: one file, podflare.db, in the state dir, in WAL mode, migrated on open.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../store.js";
import { SqliteAddressTable, SqliteNetMetaTable } from "./addresses.js";
import { SqliteKeyTable } from "./keys.js";
import { migrate } from "./migrate.js";
import { SqliteSandboxTable } from "./sandboxes.js";
import { SqliteSpaceTable } from "./spaces.js";
import { SqliteUsageHistoryTable } from "./usage-history.js";
import { SqliteUsageTable } from "./usage.js";

/** Opens (creating and migrating as needed) the store at `file`. */
export function openSqliteFile(file: string): Store {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return {
    keys: new SqliteKeyTable(db),
    usage: new SqliteUsageTable(db),
    addresses: new SqliteAddressTable(db),
    netMeta: new SqliteNetMetaTable(db),
    sandboxes: new SqliteSandboxTable(db),
    spaces: new SqliteSpaceTable(db),
    usageHistory: new SqliteUsageHistoryTable(db),
    close: () => db.close(),
  };
}

/** The state dir's store (the dir is made, mode 0700, when missing). */
export function openStore(stateDir: string): Store {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  return openSqliteFile(path.join(stateDir, "podflare.db"));
}
