// `podflare down`: remove the sandbox network (router namespace, uplink, host rules), unmount
// the favordynmods cgroup hierarchy and the storage pool, detach its loop device and remove the state dir's empty cgroup parent
// (hostd must be stopped: it refuses while one holds the state dir, and holds it meanwhile).
import fs from "node:fs";
import path from "node:path";
import { loadConfig, lockStateDir } from "@podflare/hostd";
import { CgroupManager, releaseDynamicMods } from "@podflare/hostd/jail";
import { createStoragePool } from "@podflare/hostd/storage";
import { teardownNetwork } from "@podflare/hostd/network";

export async function downCommand(args: string[]): Promise<number> {
  const cfg = loadConfig();
  if (!fs.existsSync(cfg.stateDir)) return down(cfg, args);
  const lock = lockStateDir(cfg.stateDir, { what: "podflare down" });
  try {
    return await down(cfg, args);
  } finally {
    lock.release();
  }
}

async function down(cfg: ReturnType<typeof loadConfig>, args: string[]): Promise<number> {
  await teardownNetwork(cfg.cgroupParent);
  releaseDynamicMods(cfg.stateDir);
  if (!fs.existsSync(path.join(cfg.stateDir, "storage.json"))) {
    console.log(`no storage pool in ${cfg.stateDir}; nothing to do`);
    return 0;
  }
  const pool = await createStoragePool({ stateDir: cfg.stateDir, driver: cfg.storageDriver, log: () => {} });
  await pool.teardown({ force: args.includes("--force") });
  new CgroupManager({ parent: cfg.cgroupParent }).removeParentIfEmpty();
  console.log(`storage pool of ${cfg.stateDir} unmounted`);
  return 0;
}
