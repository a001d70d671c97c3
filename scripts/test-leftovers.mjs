// What test processes left behind when they were killed (a CI timeout, a file past npm test's
// timeout, kill -9). Storage tests make /tmp/podflare-test-storage-XXXX (a pool image, its loop
// device and mount) and jail tests /tmp/podflare-test-jail-XXXX (overlay mounts), each naming
// its process in owner.pid; jail tests also put their sandboxes under a cgroup parent
// podflare-test-jail-<pid>. run-tests.mjs sweeps, before and after a run, what belongs to a
// process that is gone: sandboxes killed, mounts unmounted, loop devices detached, dirs removed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const PREFIXES = ["podflare-test-storage-", "podflare-test-jail-"];
const JAIL_CGROUP_PARENT = /^podflare-test-jail-(\d+)$/;
/** A dir without owner.pid (made before tests wrote one) counts as abandoned after this long. */
const UNOWNED_AGE_MS = 60 * 60_000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** The pid in DIR/owner.pid, or 0 when there is none. */
function ownerPid(dir) {
  try {
    return Number(fs.readFileSync(path.join(dir, "owner.pid"), "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

function mountsUnder(dir) {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

function loopDevicesOf(image) {
  const r = spawnSync("losetup", ["-j", image], { encoding: "utf8" });
  return (r.stdout ?? "").split("\n").flatMap((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1] ?? []);
}

/** Unmounts, detaches and removes abandoned test dirs; returns the dirs it removed. */
export function sweepTestLeftovers(tmp = "/tmp", log = console.log) {
  const removed = [];
  for (const name of fs.readdirSync(tmp)) {
    if (!PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = path.join(tmp, name);
    const owner = ownerPid(dir);
    if (owner ? alive(owner) : Date.now() - fs.statSync(dir).mtimeMs < UNOWNED_AGE_MS) continue;
    for (const m of mountsUnder(dir)) {
      if (spawnSync("umount", [m]).status !== 0) spawnSync("umount", ["--lazy", m]);
    }
    for (const loop of loopDevicesOf(path.join(dir, "pool.img"))) spawnSync("losetup", ["-d", loop]);
    if (mountsUnder(dir).length) {
      log(`# could not unmount everything under ${dir}; left in place`);
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
    log(`# removed ${dir}: a test's dir whose process (${owner || "unknown"}) ended without cleaning up`);
  }
  return removed;
}

/** Roots of the cgroup hierarchies: the unified one (v2), or each v1 controller's. */
function cgroupRoots() {
  if (fs.existsSync("/sys/fs/cgroup/cgroup.controllers")) return ["/sys/fs/cgroup"];
  return fs.readdirSync("/sys/fs/cgroup").map((c) => path.join("/sys/fs/cgroup", c)).filter((d) => fs.statSync(d).isDirectory());
}

/** Kills the sandboxes of jail tests whose process is gone and removes their groups; returns the parents swept. */
export async function sweepJailCgroups(log = console.log) {
  const parents = new Set();
  for (const root of cgroupRoots()) {
    for (const name of fs.readdirSync(root)) {
      const pid = Number(JAIL_CGROUP_PARENT.exec(name)?.[1] ?? 0);
      if (pid && !alive(pid)) parents.add(name);
    }
  }
  if (parents.size === 0) return [];
  const { CgroupManager } = await import("@podflare/hostd/jail");
  for (const parent of parents) {
    const cgroups = new CgroupManager({ parent });
    const ids = cgroups.listIds();
    for (const id of ids) {
      await cgroups.killAll(id);
      await cgroups.remove(id);
    }
    cgroups.removeParentIfEmpty();
    log(`# removed cgroup ${parent} and its ${ids.length} sandbox group(s): a jail test's, whose process ended without cleaning up`);
  }
  return [...parents];
}
