// Choosing and starting the pool driver. The choice is recorded in
// `<stateDir>/storage.json`, so a host that fell back to `dir` once keeps finding its
// templates and sandbox roots there even if btrfs becomes available later.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BtrfsPool } from "./btrfs-pool.js";
import { DirPool } from "./dir-pool.js";
import { PoolSetupError } from "./pool-image.js";
import type { StorageDriver, StorageOptions, StoragePool } from "./types.js";

async function recordedDriver(stateDir: string): Promise<StorageDriver | null> {
  try {
    const rec = JSON.parse(await readFile(join(stateDir, "storage.json"), "utf8")) as { driver?: unknown };
    return rec.driver === "btrfs" || rec.driver === "dir" ? rec.driver : null;
  } catch {
    return null;
  }
}

/** A pool object for the given driver, not yet initialised. */
export function poolFor(driver: StorageDriver, opts: StorageOptions): StoragePool {
  return driver === "btrfs" ? new BtrfsPool(opts) : new DirPool(opts);
}

/**
 * The pool this state dir used before (btrfs if none is recorded), without setting it up:
 * for `podflare down`, which only tears it down.
 */
export async function openStoragePool(opts: StorageOptions): Promise<StoragePool> {
  const stateDir = resolve(opts.stateDir);
  const driver = opts.driver && opts.driver !== "auto" ? opts.driver : ((await recordedDriver(stateDir)) ?? "btrfs");
  return poolFor(driver, { ...opts, stateDir });
}

/**
 * Pick the driver (option, else what this state dir used before, else btrfs with a
 * fallback to dir), initialise it and return the ready pool.
 */
export async function createStoragePool(opts: StorageOptions): Promise<StoragePool> {
  const stateDir = resolve(opts.stateDir);
  const log = opts.log ?? ((msg: string) => console.warn(`[storage] ${msg}`));
  const o = { ...opts, stateDir, log };
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const wanted = opts.driver ?? "auto";
  const recorded = await recordedDriver(stateDir);
  if (wanted !== "auto" && recorded && recorded !== wanted) {
    // Another driver's pool would start empty beside this one: every Space and sandbox root of
    // the recorded pool would drop out of sight (and their rows with them).
    throw new PoolSetupError(
      `the storage pool of ${stateDir} uses the ${recorded} driver (storage.json), but PODFLARE_STORAGE_DRIVER=${wanted}: ` +
        `unset PODFLARE_STORAGE_DRIVER or set it to ${recorded}; a ${wanted} pool needs another PODFLARE_STATE_DIR`,
    );
  }
  let pool: StoragePool;
  if (wanted !== "auto") {
    pool = poolFor(wanted, o);
    await pool.init();
  } else if (recorded) {
    pool = poolFor(recorded, o);
    await pool.init();
  } else if (opts.poolPath) {
    pool = poolFor("btrfs", o);
    await pool.init();
  } else {
    const btrfsPool = poolFor("btrfs", o);
    try {
      await btrfsPool.init();
      pool = btrfsPool;
    } catch (err) {
      // Leave no loop device or mount behind from the failed attempt.
      await btrfsPool.teardown({ force: true }).catch(() => {});
      // A pool that does not fit is the operator's to size: the dir driver has no disk caps, and
      // the choice would stick (storage.json).
      if (err instanceof PoolSetupError) throw err;
      log(`WARNING: btrfs storage unavailable, using the dir driver (plain copies, no disk caps): ${(err as Error).message}`);
      pool = poolFor("dir", o);
      await pool.init();
    }
  }
  if (recorded !== pool.driver) {
    await writeFile(join(stateDir, "storage.json"), JSON.stringify({ driver: pool.driver }, null, 2) + "\n");
  }
  return pool;
}
