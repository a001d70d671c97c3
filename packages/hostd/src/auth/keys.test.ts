import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore } from "../store/index.js";
import { KeyStore, hashKey } from "./keys.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-keys-"));
const db = openStore(path.join(dir, "k"));
const store = new KeyStore(db.keys);
after(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a created key is pf_live_ + 40 base62 characters, stored only as a hash", () => {
  const own = openStore(path.join(dir, "hash-only"));
  const { key, record } = new KeyStore(own.keys).create({ name: "ci", tier: "pro" });
  own.close();
  assert.match(key, /^pf_live_[0-9A-Za-z]{40}$/);
  assert.equal(record.tier, "pro");
  // Every byte the store kept (closing folds its write-ahead log into the file).
  const bytes = fs.readFileSync(path.join(dir, "hash-only", "podflare.db")).toString("latin1");
  assert.ok(!bytes.includes(key), "the plain key is in the store");
  assert.ok(!bytes.includes(key.slice(8)), "the secret part is in the store");
  assert.ok(bytes.includes(hashKey(key)));
});

test("verify finds the key and records its use; a wrong key finds nothing", () => {
  const { key, record } = store.create({ name: "agent", tier: "free" });
  assert.equal(store.verify(key)?.id, record.id);
  assert.ok(store.get(record.id)?.lastUsedAt);
  assert.equal(store.verify(key + "x"), undefined);
  assert.equal(store.verify("pf_live_" + "0".repeat(40)), undefined);
});

test("a revoked key stops verifying at once, by id or by value", () => {
  const a = store.create({ name: "a", tier: "free" });
  const b = store.create({ name: "b", tier: "free" });
  assert.equal(store.revoke(a.record.id), true);
  assert.equal(store.verify(a.key), undefined);
  assert.equal(store.revoke(b.key), true);
  assert.equal(store.verify(b.key), undefined);
  assert.equal(store.revoke(a.record.id), false, "revoking twice says nothing changed");
});

test("keys are distinct", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(store.create({ name: `k${i}`, tier: "free" }).key);
  assert.equal(seen.size, 200);
});

test("revokeUnlessLast refuses the last live key and revokes any other", () => {
  const db2 = openStore(path.join(dir, "last"));
  const s = new KeyStore(db2.keys);
  try {
    assert.equal(s.hasLiveKeys(), false);
    const a = s.create({ name: "a", tier: "free" });
    const b = s.create({ name: "b", tier: "free" });
    assert.equal(s.hasLiveKeys(), true);
    assert.equal(s.revokeUnlessLast("key_nope"), "not_found");
    assert.equal(s.revokeUnlessLast(a.record.id), "revoked");
    assert.equal(s.revokeUnlessLast(b.key), "last");
    assert.equal(s.verify(b.key)?.id, b.record.id, "the last key still works");
  } finally {
    db2.close();
  }
});

test("a key still verifies when its use cannot be recorded (the state dir's disk full)", () => {
  const { key, record } = store.create({ name: "full-disk", tier: "free" });
  // The table as a full disk leaves it: reads work, the write fails.
  const full = Object.create(db.keys) as typeof db.keys;
  full.setLastUsed = () => {
    throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  };
  assert.equal(new KeyStore(full).verify(key)?.id, record.id);
});

test("a stored name is shown with whatever could disguise it escaped (names kept from before the check)", async () => {
  const { shownKeyName, keyNameProblem } = await import("./keys.js");
  assert.equal(shownKeyName("ci-\u202edorp"), "ci-\\u202edorp");
  assert.equal(shownKeyName("a\u2066b\u2069\x1b[2J"), "a\\u2066b\\u2069\\u001b[2J");
  assert.equal(shownKeyName("ünïcode 名前 ok"), "ünïcode 名前 ok");
  assert.equal(keyNameProblem("ünïcode 名前 ok"), undefined);
});
