// The behaviour both pool drivers must share. Each driver's test file runs this suite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStoragePool, type StorageDriver, type StoragePool } from "./storage.js";
import { cleanupStateDir, makeFakeTemplate, makeStateDir, newSandboxId, requireRoot } from "./helpers.js";

export function definePoolBehaviourTests(driver: StorageDriver): void {
  describe(`${driver} pool behaviour`, () => {
    let stateDir = "";
    let pool: StoragePool;

    before(async () => {
      requireRoot();
      stateDir = makeStateDir();
      pool = await createStoragePool({ stateDir, driver, poolSizeGb: 4, log: () => {} });
      assert.equal(pool.driver, driver);
      await makeFakeTemplate(pool, "tiny");
    });

    after(async () => {
      if (!stateDir) return;
      try {
        await pool?.teardown({ force: true });
      } finally {
        cleanupStateDir(stateDir);
      }
    });

    test("the template counts once committed, with its manifest", async () => {
      assert.equal(await pool.hasTemplate("tiny"), true);
      assert.equal(await pool.hasTemplate("absent"), false);
      // The create path's answer-at-once form agrees, and a name that is not one is simply absent.
      assert.equal(pool.hasTemplateNow("tiny"), true);
      assert.equal(pool.hasTemplateNow("absent"), false);
      assert.equal(pool.hasTemplateNow("../tiny"), false);
      // Without its manifest a root filesystem is not a template, in either form.
      await makeFakeTemplate(pool, "nomanifest");
      unlinkSync(pool.templateManifestPath("nomanifest"));
      assert.equal(pool.hasTemplateNow("nomanifest"), false);
      assert.equal(await pool.hasTemplate("nomanifest"), false);
      await pool.deleteTemplate("nomanifest");
      assert.deepEqual(await pool.listTemplateNames(), ["tiny"]);
      assert.equal(readFileSync(join(pool.templatePath("tiny"), "etc/hello"), "utf8"), "from the template\n");
      assert.ok(existsSync(pool.templateManifestPath("tiny")));
    });

    test("a sandbox root is writable and isolated from the template and other roots", async () => {
      const a = newSandboxId();
      const b = newSandboxId();
      const rootA = await pool.createSandboxRoot("tiny", a);
      const rootB = await pool.createSandboxRoot("tiny", b);
      assert.equal(rootA, pool.sandboxRootPath(a));
      assert.ok(rootA.startsWith(stateDir + "/"));
      writeFileSync(join(rootA, "etc/hello"), "changed in A\n");
      writeFileSync(join(rootA, "only-in-a"), "x");
      mkdirSync(join(rootA, "dir-in-a"));
      assert.equal(readFileSync(join(pool.templatePath("tiny"), "etc/hello"), "utf8"), "from the template\n");
      assert.equal(readFileSync(join(rootB, "etc/hello"), "utf8"), "from the template\n");
      assert.equal(existsSync(join(rootB, "only-in-a")), false);
      assert.equal(existsSync(join(pool.templatePath("tiny"), "only-in-a")), false);
      assert.equal(statSync(join(rootB, "usr/bin/tool")).mode & 0o777, 0o755);
      await pool.deleteSandboxRoot(a);
      await pool.deleteSandboxRoot(b);
    });

    test("snapshotSandboxRoot carries the source's changes and is isolated from it", async () => {
      const parent = newSandboxId();
      const child = newSandboxId();
      const rootP = await pool.createSandboxRoot("tiny", parent);
      writeFileSync(join(rootP, "state"), "parent state\n");
      const rootC = await pool.snapshotSandboxRoot(parent, child);
      assert.equal(readFileSync(join(rootC, "state"), "utf8"), "parent state\n");
      writeFileSync(join(rootC, "state"), "child state\n");
      writeFileSync(join(rootC, "child-only"), "c");
      assert.equal(readFileSync(join(rootP, "state"), "utf8"), "parent state\n");
      assert.equal(existsSync(join(rootP, "child-only")), false);
      writeFileSync(join(rootP, "parent-later"), "p");
      assert.equal(existsSync(join(rootC, "parent-later")), false);
      await pool.deleteSandboxRoot(parent);
      assert.equal(readFileSync(join(rootC, "state"), "utf8"), "child state\n", "child survives its parent's deletion");
      await pool.deleteSandboxRoot(child);
    });

    test("snapshotSandboxRoots makes several isolated copies at once, refusing an existing target first", async () => {
      const parent = newSandboxId();
      const rootP = await pool.createSandboxRoot("tiny", parent);
      writeFileSync(join(rootP, "state"), "parent state\n");
      const kids = [newSandboxId(), newSandboxId(), newSandboxId()];
      const roots = await pool.snapshotSandboxRoots(parent, kids);
      assert.deepEqual(roots, kids.map((k) => pool.sandboxRootPath(k)));
      for (const [i, root] of roots.entries()) {
        assert.equal(readFileSync(join(root, "state"), "utf8"), "parent state\n");
        writeFileSync(join(root, "mine"), String(i));
      }
      for (const [i, root] of roots.entries()) assert.equal(readFileSync(join(root, "mine"), "utf8"), String(i));
      assert.equal(existsSync(join(rootP, "mine")), false);
      const fresh = newSandboxId();
      await assert.rejects(pool.snapshotSandboxRoots(parent, [fresh, kids[0]!]), { code: "conflict" });
      assert.equal(existsSync(pool.sandboxRootPath(fresh)), false, "a refused batch made a copy");
      for (const id of [parent, ...kids]) await pool.deleteSandboxRoot(id);
    });

    test("deleteSandboxRoot is idempotent", async () => {
      const id = newSandboxId();
      const root = await pool.createSandboxRoot("tiny", id);
      await pool.deleteSandboxRoot(id);
      assert.equal(existsSync(root), false);
      await pool.deleteSandboxRoot(id);
      await pool.deleteSandboxRoot(newSandboxId());
    });

    test("listSandboxRoots finds the roots present and nothing else", async () => {
      const ids = [newSandboxId(), newSandboxId(), newSandboxId()];
      for (const id of ids) await pool.createSandboxRoot("tiny", id);
      mkdirSync(join(pool.root, "sandboxes", "not-a-sandbox"));
      assert.deepEqual(await pool.listSandboxRoots(), [...ids].sort());
      await pool.deleteSandboxRoot(ids[1]!);
      assert.deepEqual(await pool.listSandboxRoots(), [ids[0]!, ids[2]!].sort());
      for (const id of ids) await pool.deleteSandboxRoot(id);
      assert.deepEqual(await pool.listSandboxRoots(), []);
    });

    test("invalid sandbox ids are rejected before touching the filesystem", async () => {
      const bad = ["../../etc", "sbx_", `sbx_${"A".repeat(32)}`, `sbx_${"0".repeat(31)}`, `sbx_${"0".repeat(32)}/..`, ""];
      for (const id of bad) {
        const isBadRequest = { code: "bad_request" };
        assert.throws(() => pool.sandboxRootPath(id), isBadRequest, id);
        await assert.rejects(pool.createSandboxRoot("tiny", id), isBadRequest, id);
        await assert.rejects(pool.deleteSandboxRoot(id), isBadRequest, id);
        await assert.rejects(pool.snapshotSandboxRoot(id, newSandboxId()), isBadRequest, id);
        await assert.rejects(pool.setDiskLimitMb(id, 100), isBadRequest, id);
        await assert.rejects(pool.diskUsageBytes(id), isBadRequest, id);
      }
      assert.deepEqual(await pool.listSandboxRoots(), []);
    });

    test("a missing template, a missing source and an existing target are clear errors", async () => {
      await assert.rejects(pool.createSandboxRoot("absent", newSandboxId()), { code: "template_not_found" });
      await assert.rejects(pool.snapshotSandboxRoot(newSandboxId(), newSandboxId()), { code: "sandbox_not_found" });
      const id = newSandboxId();
      await pool.createSandboxRoot("tiny", id);
      await assert.rejects(pool.createSandboxRoot("tiny", id), { code: "conflict" });
      await assert.rejects(pool.snapshotSandboxRoot(id, id), { code: "conflict" });
      await pool.deleteSandboxRoot(id);
    });

    test("disk usage is reported, and caps are applied where the driver supports them", async () => {
      const id = newSandboxId();
      const root = await pool.createSandboxRoot("tiny", id);
      const before = await pool.diskUsageBytes(id);
      writeFileSync(join(root, "blob"), Buffer.alloc(8 * 1024 * 1024, 1));
      const afterWrite = await pool.diskUsageBytes(id);
      assert.ok(afterWrite >= before + 8 * 1024 * 1024, `usage ${before} -> ${afterWrite}`);
      const limited = await pool.setDiskLimitMb(id, 32);
      assert.equal(limited, driver === "btrfs");
      if (limited) {
        // libuv has no name for EDQUOT (122): Node reports it as UNKNOWN with errno -122.
        const overQuota = (e: NodeJS.ErrnoException) => e.code === "EDQUOT" || e.errno === -122;
        assert.throws(() => writeFileSync(join(root, "too-big"), Buffer.alloc(64 * 1024 * 1024, 2)), overQuota);
      }
      await pool.deleteSandboxRoot(id);
    });

    test("createSandboxRoots and setDiskLimitsMb make and cap several roots in one call each", async () => {
      const ids = [newSandboxId(), newSandboxId(), newSandboxId()];
      const roots = await pool.createSandboxRoots("tiny", ids);
      assert.deepEqual(roots, ids.map((id) => pool.sandboxRootPath(id)));
      for (const [i, root] of roots.entries()) writeFileSync(join(root, "mine"), String(i));
      for (const [i, root] of roots.entries()) assert.equal(readFileSync(join(root, "mine"), "utf8"), String(i));
      await assert.rejects(pool.createSandboxRoots("tiny", [newSandboxId(), ids[0]!]), { code: "conflict" });
      // The dir driver enforces no caps and so checks no roots; btrfs refuses a missing one.
      if (driver === "btrfs") await assert.rejects(pool.setDiskLimitsMb([ids[0]!, newSandboxId()], 32), { code: "sandbox_not_found" });
      const limited = await pool.setDiskLimitsMb(ids, 32);
      assert.equal(limited, driver === "btrfs");
      if (limited) {
        const overQuota = (e: NodeJS.ErrnoException) => e.code === "EDQUOT" || e.errno === -122;
        for (const root of roots) assert.throws(() => writeFileSync(join(root, "too-big"), Buffer.alloc(64 * 1024 * 1024, 2)), overQuota);
      }
      for (const id of ids) await pool.deleteSandboxRoot(id);
    });

    test("re-init of the same state dir finds the same templates and roots", async () => {
      const id = newSandboxId();
      await pool.createSandboxRoot("tiny", id);
      const again = await createStoragePool({ stateDir, poolSizeGb: 4, log: () => {} });
      assert.equal(again.driver, driver, "the recorded driver is kept");
      assert.deepEqual(await again.listSandboxRoots(), [id]);
      assert.equal(await again.hasTemplate("tiny"), true);
      await again.deleteSandboxRoot(id);
    });

    test("teardown refuses while sandbox roots exist", async () => {
      const id = newSandboxId();
      await pool.createSandboxRoot("tiny", id);
      await assert.rejects(pool.teardown(), { code: "conflict" });
      assert.equal(await pool.hasTemplate("tiny"), true, "still usable after the refusal");
      await pool.deleteSandboxRoot(id);
    });
  });
}
