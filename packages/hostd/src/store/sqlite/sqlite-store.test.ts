// The store suite against SQLite, plus what only SQLite has: its migrations, and state dirs
// written by earlier hostds opening unchanged.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { KeyStore } from "../../auth/keys.js";
import { checkOrder } from "../migrations/migration.js";
import { sqliteMigrations } from "../migrations/sqlite.js";
import { runStoreSuite } from "../store-suite.js";
import type { Store } from "../store.js";
import { migrate, schemaVersion } from "./migrate.js";
import { openSqliteFile, openStore } from "./open.js";

const base = fs.mkdtempSync(path.join(os.tmpdir(), "pf-store-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;
const files = new WeakMap<Store, string>();

runStoreSuite("sqlite", {
  open: () => {
    const file = path.join(base, `s${n++}.db`);
    const store = openSqliteFile(file);
    files.set(store, file);
    return store;
  },
  openAgain: (first) => openSqliteFile(files.get(first)!),
});

// Compiled into dist/store/sqlite/: the fixtures stay in src/.
const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../src/store/fixtures/podflare-v9-main-8998c52.db");

test("sqlite: a state dir written by main (schema 9) opens, and its keys, sandboxes, Spaces, usage and addresses read back", () => {
  const dir = path.join(base, "from-main");
  fs.mkdirSync(dir);
  fs.copyFileSync(fixture, path.join(dir, "podflare.db"));
  const store = openStore(dir);
  try {
    const keys = new KeyStore(store.keys);
    const key = keys.verify("pf_live_vZBOcUU24gsmTC3oeOFl7Ps48BDm77j4JPZX1cTc");
    assert.equal(key?.name, "fixture");
    assert.equal(key?.admin, true);
    assert.equal(key?.tier, "pro");
    assert.equal(store.keys.countLive(), 1, "the revoked key stays revoked");
    const sb = store.sandboxes.get("sb_fixture");
    assert.equal(sb?.owner, key?.id);
    assert.deepEqual(sb?.outerFamily, { id: "z1", pid: 4000, startTime: "100" });
    assert.deepEqual(sb?.network, { allow_out: ["pkgs.test"], deny_out: [] });
    assert.equal(sb?.familyId, "fam1");
    const spaces = store.spaces.list(key!.id);
    assert.equal(spaces.length, 1);
    assert.equal(spaces[0]!.bytes, 4096);
    assert.deepEqual(store.usage.get(key!.id), { sandboxes_created: 1, sandbox_seconds: 10, gb_seconds: 10, execs: 1, forks: 3 });
    assert.equal(store.netMeta.get("cidr"), "10.99.0.0/24");
    assert.deepEqual([...store.addresses.entries()], [["sb_fixture", 0x0a630002]]);
  } finally {
    store.close();
  }
  const db = new Database(path.join(dir, "podflare.db"), { readonly: true });
  try {
    assert.equal(schemaVersion(db), sqliteMigrations.length);
  } finally {
    db.close();
  }
});

test("sqlite: a database left at any earlier version migrates to the newest and keeps its rows", () => {
  for (let v = 0; v < sqliteMigrations.length; v++) {
    const file = path.join(base, `at-v${v}.db`);
    const db = new Database(file);
    migrate(db, sqliteMigrations, v);
    assert.equal(schemaVersion(db), v);
    if (v >= 1) {
      db.prepare(`INSERT INTO sandboxes (id, owner, template, state, applied_json, metadata_json, env_json, created_at, last_active_at)
        VALUES ('sb_old', 'o1', 'default', 'ready', '{}', '{}', '{}', 1, 2)`).run();
    }
    db.close();
    const store = openSqliteFile(file);
    try {
      if (v >= 1) {
        const r = store.sandboxes.get("sb_old");
        assert.equal(r?.runtimeKey, "sb_old", `at v${v}: a row from before fork reads its own runtime`);
        assert.equal(r?.network, null);
      }
      assert.equal(store.keys.countLive(), 0);
    } finally {
      store.close();
    }
    const again = new Database(file, { readonly: true });
    assert.equal(schemaVersion(again), sqliteMigrations.length, `from v${v}`);
    again.close();
  }
});

test("sqlite: migrations run 1, 2, 3 ... and a gap is refused", () => {
  checkOrder(sqliteMigrations);
  assert.throws(() => checkOrder([{ version: 1, name: "a", sql: "" }, { version: 3, name: "c", sql: "" }]), /append new migrations at the end/);
});
