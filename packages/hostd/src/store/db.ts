// The metadata store: one SQLite file in WAL mode. Migrations are numbered and applied once.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { keysMigration } from "../auth/keys.js";
import { usageMigration } from "../lifecycle/usage.js";
import { spacesBytesMigration, spacesMigration, spacesNetworkMigration } from "./spaces.js";
import { ipamMigration } from "../network/ipam.js";

export type Db = Database.Database;

const migrations: string[] = [
  `CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     template TEXT NOT NULL,
     state TEXT NOT NULL,
     parent_id TEXT,
     applied_json TEXT NOT NULL,
     metadata_json TEXT NOT NULL,
     env_json TEXT NOT NULL,
     init_pid INTEGER,
     init_start_time TEXT,
     created_at INTEGER NOT NULL,
     last_active_at INTEGER NOT NULL
   );
   CREATE INDEX sandboxes_owner ON sandboxes(owner);`,
  // Fork: the runtime a record uses (merge_into points a parent at its winner's) and the
  // fork family (shared user and pid namespaces, one family init) it belongs to.
  `ALTER TABLE sandboxes ADD COLUMN runtime_key TEXT;
   ALTER TABLE sandboxes ADD COLUMN family_id TEXT;
   ALTER TABLE sandboxes ADD COLUMN family_pid INTEGER;
   ALTER TABLE sandboxes ADD COLUMN family_start_time TEXT;`,
  keysMigration,
  usageMigration,
  spacesMigration,
  ipamMigration,
  spacesNetworkMigration,
  // The warm pool's spawn: the zygote family a sandbox's own family is nested in.
  `ALTER TABLE sandboxes ADD COLUMN outer_family_json TEXT;`,
  spacesBytesMigration,
];

export function openDb(stateDir: string): Db {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const db = new Database(path.join(stateDir, "podflare.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
