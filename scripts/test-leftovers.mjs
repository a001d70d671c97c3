// Storage pools that test processes left mounted when they were killed (a CI timeout, kill -9):
// each storage test makes /tmp/podflare-test-storage-XXXX with its pool image, loop device and
// mount, and names its process in owner.pid. run-tests.mjs sweeps the dirs whose owner is gone,
// before and after a run, so a killed run does not leave mounts and loop devices behind.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const PREFIX = "podflare-test-storage-";
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

/** Unmounts, detaches and removes abandoned test pools; returns the dirs it removed. */
export function sweepTestLeftovers(tmp = "/tmp", log = console.log) {
  const removed = [];
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith(PREFIX)) continue;
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
    log(`# removed ${dir}: a storage test's pool whose process (${owner || "unknown"}) ended without cleaning up`);
  }
  return removed;
}
