// `podflare down`: remove the sandbox network (router namespace, uplink, host rules), unmount
// the favordynmods cgroup hierarchy and the storage pool, detach its loop device and remove the state dir's empty cgroup parent
// (hostd must be stopped: it refuses while one holds the state dir, and holds it meanwhile).
// Sandboxes a stopped hostd left running make it refuse, unless --force, which kills them first.
import fs from "node:fs";
import path from "node:path";
import { loadConfig, lockStateDir } from "@podflare/hostd";
import { CgroupManager, releaseDynamicMods } from "@podflare/hostd/jail";
import { createStoragePool, findLeftoverPool, mountAt, removeLeftoverPool } from "@podflare/hostd/storage";
import { teardownNetwork } from "@podflare/hostd/network";
import { parseOrHelp, type CommandSpec } from "./args.js";

const downSpec: CommandSpec = {
  usage: `usage: podflare down [--force]

  With hostd stopped, as root: removes the sandbox network, unmounts the storage pool of
  PODFLARE_STATE_DIR (default /var/lib/podflare) and detaches its loop device. Refuses while
  sandboxes a stopped hostd left still run; --force kills them first.`,
  options: [{ name: "--force" }],
};

export async function downCommand(args: string[]): Promise<number> {
  const parsed = parseOrHelp(downSpec, args);
  if (!parsed) return 0;
  const force = parsed.has("--force");
  const cfg = loadConfig();
  if (!fs.existsSync(cfg.stateDir)) return down(cfg, force);
  const lock = lockStateDir(cfg.stateDir, { what: "podflare down" });
  try {
    return await down(cfg, force);
  } finally {
    lock.release();
  }
}

async function down(cfg: ReturnType<typeof loadConfig>, force: boolean): Promise<number> {
  // Sandboxes outlive a stopped hostd (the next start re-adopts them). Nothing is torn down
  // under them unless asked: --force kills them first, so none is left running on a pool that
  // is gone (its processes would hold the filesystem alive through their own mounts).
  const cgroups = new CgroupManager({ parent: cfg.cgroupParent });
  const groups = cgroups.listIds();
  const running = groups.filter((id) => cgroups.pids(id).length > 0);
  const sandboxes = running.filter((id) => id.startsWith("sbx_")).length;
  if (running.length > 0 && !force) {
    console.error(
      `${sandboxes} sandbox(es) of ${cfg.stateDir} still run (hostd is stopped; the next \`podflare serve\` re-adopts them). ` +
        "Start hostd and close them, or run `podflare down --force` to kill them. Nothing was changed.",
    );
    return 1;
  }
  for (const id of groups) {
    await cgroups.killAll(id);
    await cgroups.remove(id);
  }
  if (running.length > 0) console.log(`killed ${sandboxes} sandbox(es) left running by a stopped hostd`);
  await teardownNetwork(cfg.cgroupParent);
  releaseDynamicMods(cfg.stateDir);
  if (!fs.existsSync(path.join(cfg.stateDir, "storage.json"))) {
    cgroups.removeParentIfEmpty();
    // The state dir (or its storage.json) was deleted while the pool stayed mounted: found from
    // the kernel's mount table and loop devices instead.
    const left = await findLeftoverPool(cfg.stateDir);
    if (left.mounts.length === 0 && left.loops.length === 0) {
      console.log(`no storage pool in ${cfg.stateDir}; nothing to unmount`);
      return 0;
    }
    await removeLeftoverPool(left, force);
    console.log(
      `${cfg.stateDir} has no storage.json, but ${[...left.mounts, ...left.loops].join(", ")} ` +
        "were still there (the state dir was deleted while its pool was mounted): unmounted and detached",
    );
    return 0;
  }
  // Was it mounted before this down (createStoragePool mounts it to tear it down)?
  const wasMounted = (await mountAt(path.join(path.resolve(cfg.stateDir), "pool"))) !== undefined;
  // The driver storage.json records (auto), whatever PODFLARE_STORAGE_DRIVER says now.
  const pool = await createStoragePool({ stateDir: cfg.stateDir, driver: "auto", log: () => {} });
  await pool.teardown({ force });
  cgroups.removeParentIfEmpty();
  console.log(pool.driver !== "btrfs"
    ? `storage pool of ${cfg.stateDir} left as it is (the ${pool.driver} driver's pool is a plain folder: nothing to unmount)`
    : wasMounted ? `storage pool of ${cfg.stateDir} unmounted` : `storage pool of ${cfg.stateDir} was not mounted: nothing to unmount`);
  return 0;
}
