// SQLite's schema, as ordered migrations. A database keeps its version in PRAGMA user_version;
// never edit or reorder an applied migration: state dirs in the field are at every version.
// Append a change as the next version.
import type { Migration } from "./migration.js";

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: "sandboxes",
    sql: `CREATE TABLE sandboxes (
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
  },
  {
    // Fork: the runtime a record uses (merge_into points a parent at its winner's) and the
    // fork family (shared user and pid namespaces, one family init) it belongs to.
    version: 2,
    name: "sandboxes-fork-family",
    sql: `ALTER TABLE sandboxes ADD COLUMN runtime_key TEXT;
    ALTER TABLE sandboxes ADD COLUMN family_id TEXT;
    ALTER TABLE sandboxes ADD COLUMN family_pid INTEGER;
    ALTER TABLE sandboxes ADD COLUMN family_start_time TEXT;`,
  },
  {
    version: 3,
    name: "api-keys",
    sql: `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      tier TEXT NOT NULL,
      admin INTEGER NOT NULL DEFAULT 0,
      prefix TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER,
      revoked_at INTEGER
    );`,
  },
  {
    version: 4,
    name: "usage",
    sql: `CREATE TABLE usage (
      owner TEXT PRIMARY KEY,
      sandboxes_created INTEGER NOT NULL DEFAULT 0,
      sandbox_seconds REAL NOT NULL DEFAULT 0,
      gb_seconds REAL NOT NULL DEFAULT 0,
      execs INTEGER NOT NULL DEFAULT 0,
      forks INTEGER NOT NULL DEFAULT 0
    );`,
  },
  {
    version: 5,
    name: "spaces",
    sql: `CREATE TABLE spaces (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      source_id TEXT NOT NULL,
      template TEXT NOT NULL,
      applied_json TEXT NOT NULL,
      env_json TEXT NOT NULL,
      metadata_json TEXT NOT NULL,
      manifest_json TEXT NOT NULL,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX spaces_owner ON spaces(owner);`,
  },
  {
    // One IPv4 address per attached sandbox, and the network's kept settings (its CIDR).
    version: 6,
    name: "ipam",
    sql: `CREATE TABLE net_addresses (key TEXT PRIMARY KEY, ip INTEGER NOT NULL UNIQUE);
    CREATE TABLE net_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    ALTER TABLE sandboxes ADD COLUMN network_json TEXT;`,
  },
  {
    // The frozen sandbox's egress policy, given back on resume.
    version: 7,
    name: "spaces-network",
    sql: `ALTER TABLE spaces ADD COLUMN network_json TEXT;`,
  },
  {
    // The warm pool's spawn: the zygote family a sandbox's own family is nested in.
    version: 8,
    name: "sandboxes-outer-family",
    sql: `ALTER TABLE sandboxes ADD COLUMN outer_family_json TEXT;`,
  },
  {
    // What a Space takes on disk (its sandbox's writes at freeze), counted against the owner's cap.
    version: 9,
    name: "spaces-bytes",
    sql: `ALTER TABLE spaces ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    // Usage totals per owner over time, for the dashboard's charts (GET /v1/usage/history).
    version: 10,
    name: "usage-history",
    sql: `CREATE TABLE usage_history (
      owner TEXT NOT NULL,
      at INTEGER NOT NULL,
      sandboxes_created INTEGER NOT NULL,
      sandbox_seconds REAL NOT NULL,
      gb_seconds REAL NOT NULL,
      execs INTEGER NOT NULL,
      forks INTEGER NOT NULL,
      PRIMARY KEY (owner, at)
    );
    CREATE INDEX usage_history_at ON usage_history(at);`,
  },
  {
    // A fork child's parent runtime at the fork, so a merge after another is refused after a restart too.
    version: 11,
    name: "sandboxes-forked-from",
    sql: `ALTER TABLE sandboxes ADD COLUMN forked_from TEXT;`,
  },
  {
    // A sandbox paused by a call is kept paused (the reaper closes only those it paused itself).
    version: 12,
    name: "sandboxes-paused-by-call",
    sql: `ALTER TABLE sandboxes ADD COLUMN paused_by_call INTEGER NOT NULL DEFAULT 0;`,
  },
];
