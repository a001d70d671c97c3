// The btrfs driver: the loop-backed pool's life cycle, then the shared behaviour tests.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BtrfsPool, createStoragePool, type StoragePool } from "./storage.js";
import { cleanupStateDir, loopDevices, makeStateDir, newSandboxId, requireRoot, sh } from "./helpers.js";
import { definePoolBehaviourTests } from "./pool-behaviour.js";

function mountOf(path: string): { fsType: string; source: string; options: string } | undefined {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (left?.split(" ")[4] !== path) continue;
    const [fsType, source, options] = (right ?? "").split(" ");
    return { fsType: fsType!, source: source!, options: options ?? "" };
  }
  return undefined;
}

describe("btrfs pool life cycle", () => {
  let stateDir = "";
  let pool: StoragePool;

  before(() => {
    requireRoot();
    stateDir = makeStateDir();
  });

  after(async () => {
    if (!stateDir) return;
    try {
      await pool?.teardown({ force: true });
    } finally {
      cleanupStateDir(stateDir);
    }
  });

  test("init creates an image reserved on the disk, attaches one loop device and mounts btrfs nodiscard with quotas", async () => {
    const t = process.hrtime.bigint();
    pool = await createStoragePool({ stateDir, driver: "btrfs", poolSizeGb: 4, log: () => {} });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`# btrfs pool init (create + mkfs + losetup + mount + quota): ${ms.toFixed(0)} ms`);
    const image = join(stateDir, "pool.img");
    const st = statSync(image);
    assert.equal(st.size, 4 * 1024 ** 3);
    assert.ok(st.blocks * 512 >= st.size, `the image has holes: ${st.blocks * 512} of ${st.size} bytes allocated`);
    const loops = loopDevices(image);
    assert.equal(loops.length, 1);
    const mount = mountOf(join(stateDir, "pool"));
    assert.deepEqual(mount && { fsType: mount.fsType, source: mount.source }, { fsType: "btrfs", source: loops[0] });
    assert.doesNotMatch(mount!.options, /(^|,)discard/, "discard would punch holes in the reserved image");
    assert.ok(existsSync(join(stateDir, "pool", "templates")));
    assert.ok(existsSync(join(stateDir, "pool", "sandboxes")));
    assert.match(sh("btrfs", ["qgroup", "show", join(stateDir, "pool")]), /qgroupid/i, "quotas are enabled");
    assert.equal(JSON.parse(readFileSync(join(stateDir, "storage.json"), "utf8")).driver, "btrfs");
  });

  test("re-init reuses the mounted pool and its loop device", async () => {
    const image = join(stateDir, "pool.img");
    const [loop] = loopDevices(image);
    const t = process.hrtime.bigint();
    const again = await createStoragePool({ stateDir, poolSizeGb: 4, log: () => {} });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`# btrfs pool re-init (already mounted): ${ms.toFixed(0)} ms`);
    assert.equal(again.driver, "btrfs");
    assert.deepEqual(loopDevices(image), [loop]);
    // Another size later keeps the pool's, and says so (it was ignored without a word).
    const said: string[] = [];
    await createStoragePool({ stateDir, poolSizeGb: 6, log: (m) => said.push(m) });
    assert.equal(statSync(image).size, 4 * 1024 ** 3);
    assert.ok(said.some((m) => /WARNING: PODFLARE_POOL_SIZE_GB=6, but the pool image .* is 4\.0 GB/.test(m)), said.join("\n"));
  });

  test("PODFLARE_STORAGE_DRIVER=dir on a btrfs state dir is refused: no empty dir pool beside it, storage.json kept", async () => {
    // Accepted before: storage.json became "dir", an empty pool-dir was made on the host disk,
    // and every Space and sandbox root of the btrfs pool dropped out of sight.
    await assert.rejects(
      createStoragePool({ stateDir, driver: "dir", log: () => {} }),
      /uses the btrfs driver \(storage\.json\), but PODFLARE_STORAGE_DRIVER=dir: unset PODFLARE_STORAGE_DRIVER or set it to btrfs/,
    );
    assert.equal(JSON.parse(readFileSync(join(stateDir, "storage.json"), "utf8")).driver, "btrfs");
    assert.equal(existsSync(join(stateDir, "pool-dir")), false);
  });

  test("after an unmount, init remounts through the loop device already attached", async () => {
    const image = join(stateDir, "pool.img");
    const [loop] = loopDevices(image);
    sh("umount", [join(stateDir, "pool")]);
    assert.equal(mountOf(join(stateDir, "pool")), undefined);
    await new BtrfsPool({ stateDir, log: () => {} }).init();
    assert.deepEqual(loopDevices(image), [loop]);
    assert.equal(mountOf(join(stateDir, "pool"))?.source, loop);
  });

  test("teardown unmounts and detaches; the next init attaches again with the data intact", async () => {
    const marker = join(stateDir, "pool", "templates", "keep-me");
    sh("touch", [marker]);
    await pool.teardown();
    assert.equal(mountOf(join(stateDir, "pool")), undefined);
    assert.deepEqual(loopDevices(join(stateDir, "pool.img")), []);
    await pool.init();
    assert.equal(loopDevices(join(stateDir, "pool.img")).length, 1);
    assert.ok(existsSync(marker));
  });

  test("snapshots are fast and a nested subvolume does not block deletion", async () => {
    const staging = await pool.beginTemplate("snap");
    sh("dd", ["if=/dev/urandom", `of=${join(staging, "big")}`, "bs=1M", "count=200", "status=none"]);
    await pool.commitTemplate("snap", staging, "{}\n");
    const first = newSandboxId();
    await pool.createSandboxRoot("snap", first); // the first snapshot after writing pays a commit
    const times: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = newSandboxId();
      const t = process.hrtime.bigint();
      await pool.createSandboxRoot("snap", id);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      ids.push(id);
    }
    times.sort((a, b) => a - b);
    console.log(`# createSandboxRoot of a 200 MB template, 10 runs: p50 ${times[5]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`);
    const nested = join(pool.sandboxRootPath(first), "inner");
    sh("btrfs", ["-q", "subvolume", "create", nested]);
    sh("btrfs", ["-q", "subvolume", "create", join(nested, "deeper")]);
    const t = process.hrtime.bigint();
    await pool.deleteSandboxRoot(first);
    for (const id of ids) await pool.deleteSandboxRoot(id);
    console.log(`# deleteSandboxRoot x11: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms`);
    assert.equal(existsSync(pool.sandboxRootPath(first)), false);
    await pool.deleteTemplate("snap");
    assert.equal(await pool.hasTemplate("snap"), false);
  });
});

definePoolBehaviourTests("btrfs");
