// The metadata store's contract, as one suite every implementation must pass: each operation of
// Store (store.ts), the atomic ones included, on a store freshly migrated from an empty database.
//
// SQLite runs it in sqlite/sqlite-store.test.ts. To add a backend (PostgreSQL, for many hosts):
// implement Store under store/<backend>/ with its own ordered migrations in
// store/migrations/<backend>.ts, then add store/<backend>/<backend>-store.test.ts calling
// runStoreSuite("postgres", { open, openAgain }) where `open` makes a store on a new empty
// database (e.g. a fresh schema) and `openAgain` a second connection to the same one. The suite
// is synchronous today, like better-sqlite3; a network database needs Store to return promises
// first, and then this suite awaits each call.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppliedLimits } from "@podflare/protocol";
import type { SandboxRecord, SpaceRecord, Store, StoredKey } from "./store.js";

export interface StoreUnderTest {
  /** A store on a new, empty database (migrated by opening it). */
  open(): Store;
  /** A second store on the database `first` uses: what the CLI opens beside a running hostd. */
  openAgain(first: Store): Store;
}

const applied: AppliedLimits = { memory_mb: 512, vcpus: 1, disk_mb: 1024, max_lifetime_s: 3600, idle_timeout_s: 600, egress: true, persistent: false };

function key(id: string, extra: Partial<StoredKey> = {}): StoredKey {
  return { id, hash: `hash-${id}`, name: id, tier: "pro", admin: false, prefix: "pf_live_abcd", createdAt: 1000, lastUsedAt: null, revokedAt: null, ...extra };
}

function sandbox(id: string, extra: Partial<SandboxRecord> = {}): SandboxRecord {
  return {
    id, owner: "o1", template: "default", state: "ready", parentId: null, applied, metadata: { m: "1" }, env: { E: "x" },
    initPid: 10, initStartTime: "100", runtimeKey: id, familyId: null, familyPid: null, familyStartTime: null, outerFamily: null, forkedFrom: null, pausedByCall: false,
    network: null, createdAt: 1000, lastActiveAt: 1000, ...extra,
  };
}

function space(id: string, extra: Partial<SpaceRecord> = {}): SpaceRecord {
  return {
    id, owner: "o1", sourceId: "sb_src", template: "default", applied, env: {}, metadata: {}, manifest: { saved: ["x"], failed: [] },
    network: null, reason: "freeze", createdAt: 1000, bytes: 4096, ...extra,
  };
}

/** Runs every case with a fresh store from `impl.open`, closed afterwards. */
export function runStoreSuite(name: string, impl: StoreUnderTest): void {
  const withStore = (fn: (s: Store) => void) => () => {
    const s = impl.open();
    try {
      fn(s);
    } finally {
      s.close();
    }
  };

  describe(`store: ${name}`, () => {
    test("a store migrated from an empty database holds nothing and every table answers", withStore((s) => {
      assert.deepEqual(s.keys.list(), []);
      assert.equal(s.keys.hasLive(), false);
      assert.equal(s.keys.countLive(), 0);
      assert.equal(s.usage.get("o1"), undefined);
      assert.deepEqual([...s.addresses.entries()], []);
      assert.equal(s.netMeta.get("cidr"), null);
      assert.deepEqual(s.sandboxes.list(), []);
      assert.deepEqual(s.spaces.list(), []);
    }));

    test("keys: insert, get, byHash, list in creation order, last use", withStore((s) => {
      s.keys.insert(key("k2", { createdAt: 2000, admin: true, tier: "free" }));
      s.keys.insert(key("k1"));
      const { hash: _hash, ...record } = key("k1");
      assert.deepEqual(s.keys.get("k1"), record);
      assert.equal(s.keys.get("k2")?.admin, true);
      assert.equal(s.keys.get("k2")?.tier, "free");
      assert.equal(s.keys.byHash("hash-k2")?.id, "k2");
      assert.equal(s.keys.byHash("nope"), undefined);
      assert.deepEqual(s.keys.list().map((k) => k.id), ["k1", "k2"]);
      s.keys.setLastUsed("k1", 5000);
      assert.equal(s.keys.get("k1")?.lastUsedAt, 5000);
      assert.throws(() => s.keys.insert(key("k3", { hash: "hash-k1" })), "two keys with one hash");
    }));

    test("keys: revoke by id or by hash, once; revoked keys stay listed but are not live", withStore((s) => {
      s.keys.insert(key("a"));
      s.keys.insert(key("b"));
      assert.equal(s.keys.countLive(), 2);
      assert.deepEqual(s.keys.revokedIds(), []);
      assert.equal(s.keys.revoke({ id: "a", hash: "-" }, 7000), true);
      assert.deepEqual(s.keys.revokedIds(), ["a"]);
      assert.equal(s.keys.revoke({ id: "a", hash: "-" }, 7001), false, "revoking twice changes nothing");
      assert.equal(s.keys.get("a")?.revokedAt, 7000);
      assert.equal(s.keys.revoke({ id: "-", hash: "hash-b" }, 8000), true);
      assert.equal(s.keys.hasLive(), false);
      assert.equal(s.keys.countLive(), 0);
      assert.equal(s.keys.list().length, 2);
      assert.equal(s.keys.byHash("hash-b")?.revokedAt, 8000, "byHash finds revoked keys: the caller decides");
    }));

    test("keys: revokeUnlessLast refuses the last live key, across two connections", withStore((s) => {
      const other = impl.openAgain(s);
      try {
        s.keys.insert(key("a"));
        s.keys.insert(key("b"));
        s.keys.insert(key("c", { revokedAt: 1 }));
        assert.equal(s.keys.revokeUnlessLast({ id: "nope", hash: "nope" }, 9000), "not_found");
        assert.equal(s.keys.revokeUnlessLast({ id: "c", hash: "-" }, 9000), "not_found", "an already revoked key");
        assert.equal(other.keys.revokeUnlessLast({ id: "-", hash: "hash-a" }, 9000), "revoked");
        assert.equal(s.keys.revokeUnlessLast({ id: "b", hash: "-" }, 9001), "last");
        assert.equal(other.keys.revokeUnlessLast({ id: "b", hash: "-" }, 9002), "last");
        assert.equal(s.keys.get("b")?.revokedAt, null, "the last key stays live");
        assert.equal(s.keys.get("a")?.revokedAt, 9000);
      } finally {
        other.close();
      }
    }));

    test("usage: additions accumulate per owner, from zero", withStore((s) => {
      s.usage.add("o1", { sandboxes_created: 1 });
      s.usage.add("o1", { sandbox_seconds: 1.5, gb_seconds: 0.75 });
      s.usage.add("o1", { execs: 2, forks: 3 });
      s.usage.add("o2", {});
      assert.deepEqual(s.usage.get("o1"), { sandboxes_created: 1, sandbox_seconds: 1.5, gb_seconds: 0.75, execs: 2, forks: 3 });
      assert.deepEqual(s.usage.get("o2"), { sandboxes_created: 0, sandbox_seconds: 0, gb_seconds: 0, execs: 0, forks: 0 });
      assert.deepEqual(s.usage.owners(), ["o1", "o2"]);
    }));

    test("addresses: the lowest free in range, stable per key, gaps reused, null when full", withStore((s) => {
      assert.equal(s.addresses.allocate("a", 10, 12), 10);
      assert.equal(s.addresses.allocate("b", 10, 12), 11);
      assert.equal(s.addresses.allocate("a", 10, 12), 10, "a key keeps its address");
      assert.equal(s.addresses.get("b"), 11);
      s.addresses.release("a");
      assert.equal(s.addresses.get("a"), null);
      assert.equal(s.addresses.allocate("c", 10, 12), 10, "a released address is the lowest free again");
      assert.equal(s.addresses.allocate("d", 10, 12), 12);
      assert.equal(s.addresses.allocate("e", 10, 12), null, "the range is full");
      assert.equal(s.addresses.get("e"), null, "a refused key takes nothing");
      assert.deepEqual([...s.addresses.entries()].sort(), [["b", 11], ["c", 10], ["d", 12]]);
    }));

    test("addresses: addresses outside the range are skipped and can be dropped", withStore((s) => {
      assert.equal(s.addresses.allocate("old", 100, 200), 100);
      assert.equal(s.addresses.allocate("new", 10, 12), 10);
      assert.equal(s.addresses.dropOutside(10, 12), 1);
      assert.deepEqual([...s.addresses.entries()], [["new", 10]]);
      assert.equal(s.addresses.dropOutside(10, 12), 0);
    }));

    test("netMeta: set, overwrite, get", withStore((s) => {
      s.netMeta.set("cidr", "10.1.0.0/24");
      s.netMeta.set("cidr", "10.2.0.0/24");
      assert.equal(s.netMeta.get("cidr"), "10.2.0.0/24");
    }));

    test("sandboxes: a record round-trips whole; list by owner, oldest first; delete", withStore((s) => {
      const full = sandbox("sb_a", {
        parentId: "sb_p", forkedFrom: "sb_p", familyId: "f", familyPid: 7, familyStartTime: "70", outerFamily: { id: "z", pid: 3, startTime: "30" },
        network: { allow_out: ["pkgs.test"], deny_out: ["10.0.0.0/8"] }, createdAt: 2000,
      });
      s.sandboxes.insert(full);
      s.sandboxes.insert(sandbox("sb_b", { owner: "o2" }));
      s.sandboxes.insert(sandbox("sb_c", { createdAt: 500 }));
      assert.deepEqual(s.sandboxes.get("sb_a"), full);
      assert.deepEqual(s.sandboxes.list().map((r) => r.id), ["sb_c", "sb_b", "sb_a"]);
      assert.deepEqual(s.sandboxes.list("o1").map((r) => r.id), ["sb_c", "sb_a"]);
      s.sandboxes.delete("sb_c");
      assert.equal(s.sandboxes.get("sb_c"), undefined);
    }));

    test("sandboxes: touch, state, limits, network and init are updated in place", withStore((s) => {
      s.sandboxes.insert(sandbox("sb_a"));
      s.sandboxes.touch("sb_a", 4000);
      s.sandboxes.setState("sb_a", "paused");
      s.sandboxes.setApplied("sb_a", { ...applied, memory_mb: 1024 });
      s.sandboxes.setInit("sb_a", 99, "990");
      let r = s.sandboxes.get("sb_a")!;
      assert.equal(r.lastActiveAt, 4000);
      assert.equal(r.state, "paused");
      assert.equal(r.pausedByCall, false);
      s.sandboxes.setState("sb_a", "paused", true);
      assert.equal(s.sandboxes.get("sb_a")!.pausedByCall, true);
      s.sandboxes.setState("sb_a", "ready");
      assert.equal(s.sandboxes.get("sb_a")!.pausedByCall, false);
      s.sandboxes.setState("sb_a", "paused");
      assert.equal(r.applied.memory_mb, 1024);
      assert.deepEqual([r.initPid, r.initStartTime], [99, "990"]);
      s.sandboxes.setNetwork("sb_a", { ...applied, egress: false }, { allow_out: ["a.test"], deny_out: [] });
      r = s.sandboxes.get("sb_a")!;
      assert.equal(r.applied.egress, false);
      assert.deepEqual(r.network, { allow_out: ["a.test"], deny_out: [] });
      s.sandboxes.setNetwork("sb_a", applied, null);
      assert.equal(s.sandboxes.get("sb_a")!.network, null);
    }));

    test("sandboxes: merge gives the parent the winner's runtime and children, and drops the winner", withStore((s) => {
      s.sandboxes.insert(sandbox("sb_p", { metadata: { keep: "me" } }));
      const winner = sandbox("sb_w", {
        parentId: "sb_p", template: "datasci", runtimeKey: "sb_w", initPid: 20, initStartTime: "200", familyId: "fw", familyPid: 21,
        familyStartTime: "210", outerFamily: { id: "z", pid: 3, startTime: "30" }, env: { W: "1" }, applied: { ...applied, memory_mb: 2048 },
        network: { allow_out: null, deny_out: ["1.2.3.4/32"] },
      });
      s.sandboxes.insert(winner);
      s.sandboxes.insert(sandbox("sb_loser", { parentId: "sb_p" }));
      s.sandboxes.insert(sandbox("sb_grandchild", { parentId: "sb_w" }));
      s.sandboxes.merge("sb_p", winner);
      const p = s.sandboxes.get("sb_p")!;
      assert.equal(s.sandboxes.get("sb_w"), undefined);
      assert.deepEqual(
        [p.runtimeKey, p.initPid, p.initStartTime, p.familyId, p.familyPid, p.familyStartTime, p.template, p.env, p.applied.memory_mb, p.network, p.outerFamily],
        ["sb_w", 20, "200", "fw", 21, "210", "datasci", { W: "1" }, 2048, { allow_out: null, deny_out: ["1.2.3.4/32"] }, { id: "z", pid: 3, startTime: "30" }],
      );
      assert.deepEqual(p.metadata, { keep: "me" }, "the parent keeps its own id and metadata");
      assert.equal(s.sandboxes.get("sb_grandchild")?.parentId, "sb_p");
      assert.equal(s.sandboxes.get("sb_loser")?.parentId, "sb_p");
    }));

    test("spaces: a record round-trips whole; list by owner, oldest first; delete consumes once", withStore((s) => {
      const full = space("spc_a", { network: { allow_out: ["x.test"], deny_out: [] }, metadata: { k: "v" }, env: { E: "1" }, reason: "idle", createdAt: 3000 });
      s.spaces.insert(full);
      s.spaces.insert(space("spc_b", { owner: "o2" }));
      s.spaces.insert(space("spc_c", { createdAt: 10 }));
      assert.deepEqual(s.spaces.get("spc_a"), full);
      assert.deepEqual(s.spaces.list().map((r) => r.id), ["spc_c", "spc_b", "spc_a"]);
      assert.deepEqual(s.spaces.list("o1").map((r) => r.id), ["spc_c", "spc_a"]);
      assert.equal(s.spaces.delete("spc_a"), true);
      assert.equal(s.spaces.delete("spc_a"), false, "a second delete (a racing resume) gets nothing");
      assert.equal(s.spaces.get("spc_a"), undefined);
    }));

    test("usage history: points read back by time and owner, a repeat replaces, prune drops the old", withStore((s) => {
      const point = (owner: string, at: number, execs: number) => ({ owner, at, sandboxes_created: 1, sandbox_seconds: 2.5, gb_seconds: 1.25, execs, forks: 0 });
      assert.deepEqual(s.usageHistory.since(0), []);
      s.usageHistory.append([point("o1", 1000, 1), point("o2", 1000, 5)]);
      s.usageHistory.append([point("o1", 2000, 2)]);
      s.usageHistory.append([point("o1", 2000, 3)]);
      assert.deepEqual(s.usageHistory.since(0, "o1"), [point("o1", 1000, 1), point("o1", 2000, 3)]);
      assert.deepEqual(s.usageHistory.since(1500), [point("o1", 2000, 3)]);
      assert.deepEqual(s.usageHistory.since(0).map((p) => `${p.owner}@${p.at}`), ["o1@1000", "o2@1000", "o1@2000"]);
      assert.equal(s.usageHistory.prune(2000), 2);
      assert.deepEqual(s.usageHistory.since(0), [point("o1", 2000, 3)]);
    }));
  });
}
