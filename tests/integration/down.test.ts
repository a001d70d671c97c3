// `podflare down` with sandboxes that a stopped hostd left running (they outlive it, to be
// re-adopted by its next start): refused without --force, changing nothing; with --force the
// sandboxes are killed first, so no process is left holding the unmounted pool.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";
import { createStoragePool } from "@podflare/hostd/storage";
import { createSandbox, exec } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, runCli, startTestHostd, teardownStateDir } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("down", 36);

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** The device id (major:minor) of the filesystem mounted at `mountPoint` in our namespace. */
function deviceAt(mountPoint: string): string | undefined {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[4] === mountPoint)?.[2];
}

/** Pids of processes that see a mount of device `dev` (in any mount namespace). */
function holdersOf(dev: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let info = "";
    try {
      info = fs.readFileSync(`/proc/${name}/mountinfo`, "utf8");
    } catch {
      continue;
    }
    if (info.split("\n").some((l) => l.split(" ")[2] === dev)) out.push(Number(name));
  }
  return out;
}

test("`podflare down` refuses while a stopped hostd's sandboxes run; --force kills them and nothing holds the pool after", async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  const hostd = await startTestHostd({ stateDir, port });
  let running = true;
  try {
    const id = await createSandbox({}, hostd.url);
    assert.equal((await exec(id, "print(6*7)", {}, hostd.url)).stdout, "42\n");
    const cgroups = new CgroupManager({ parent: cgroupParentFor(stateDir) });
    const pids = cgroups.pids(id);
    assert.ok(pids.length >= 2, `the sandbox's processes: ${pids}`);
    const dev = deviceAt(`${stateDir}/pool`);
    assert.ok(dev, "the pool is mounted");

    await hostd.stop();
    running = false;
    assert.ok(pids.every(alive), "the sandbox outlives its hostd (to be re-adopted)");

    const refused = runCli(["down"], stateDir);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /1 sandbox\(es\) of .* still run .*`podflare down --force`.*Nothing was changed/);
    assert.ok(pids.every(alive), "a refused down kills nothing");
    assert.equal(deviceAt(`${stateDir}/pool`), dev, "a refused down leaves the pool mounted");

    const forced = runCli(["down", "--force"], stateDir);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /killed 1 sandbox\(es\) left running by a stopped hostd/);
    await eventually(() => !pids.some(alive), `the sandbox's processes ${pids} end`, 10_000);
    assert.equal(cgroups.listIds().length, 0, "no cgroup of the state dir is left");
    assert.equal(deviceAt(`${stateDir}/pool`), undefined, "the pool is unmounted");
    await eventually(() => holdersOf(dev!).length === 0, `no process holds the pool's filesystem (held by ${holdersOf(dev!)})`, 10_000);
    // Twice: it said "unmounted" again.
    const twice = runCli(["down", "--force"], stateDir);
    assert.equal(twice.status, 0, twice.stderr);
    assert.match(twice.stdout, /was not mounted: nothing to unmount/);
  } finally {
    if (running) await hostd.stop();
    teardownStateDir(stateDir);
  }
});

test("`podflare down` on a dir-driver state dir says there was nothing to unmount (it said \"unmounted\")", async () => {
  const dirState = `${stateDir}-dir`;
  fs.mkdirSync(dirState, { recursive: true });
  try {
    const pool = await createStoragePool({ stateDir: dirState, driver: "dir", log: () => {} });
    await pool.teardown({});
    const r = runCli(["down"], dirState, { PODFLARE_STORAGE_DRIVER: "dir" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /left as it is \(the dir driver's pool is a plain folder: nothing to unmount\)/);
    assert.doesNotMatch(r.stdout, /unmounted/);
  } finally {
    fs.rmSync(dirState, { recursive: true, force: true });
  }
});

test("`podflare down` after the state dir's files were deleted under a mounted pool unmounts it and detaches its loop device (it said \"nothing to unmount\")", async () => {
  const goneState = `${stateDir}-gone`;
  fs.mkdirSync(goneState, { recursive: true });
  const poolDir = `${goneState}/pool`;
  try {
    await createStoragePool({ stateDir: goneState, driver: "btrfs", poolSizeGb: 2, log: () => {} });
    assert.ok(deviceAt(poolDir), "the pool is mounted");
    assert.ok(loopsBackedBy(`${goneState}/pool.img`).length > 0, "a loop device backs the pool");
    // What `rm -rf` of the state dir leaves: every file gone, the mounted pool dir busy.
    for (const name of fs.readdirSync(goneState)) if (name !== "pool") fs.rmSync(`${goneState}/${name}`, { recursive: true, force: true });
    const r = runCli(["down"], goneState);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /has no storage\.json, but .*pool.*\/dev\/loop\d+ were still there/);
    assert.equal(deviceAt(poolDir), undefined, "the pool is unmounted");
    // A loop device detaches once the filesystem on it has let go (losetup -d marks it so).
    await eventually(() => loopsBackedBy(`${goneState}/pool.img`).length === 0, "no loop device is left on the deleted image", 10_000);
    const again = runCli(["down"], goneState);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /nothing to unmount/);
  } finally {
    if (deviceAt(poolDir)) spawnSync("umount", ["--lazy", poolDir]);
    for (const loop of loopsBackedBy(`${goneState}/pool.img`)) spawnSync("losetup", ["-d", loop]);
    fs.rmSync(goneState, { recursive: true, force: true });
  }
});

/** Loop devices whose backing file is `file`, deleted or not. */
function loopsBackedBy(file: string): string[] {
  return fs.readdirSync("/sys/block").filter((n) => /^loop\d+$/.test(n)).filter((n) => {
    try {
      return fs.readFileSync(`/sys/block/${n}/loop/backing_file`, "utf8").trim().replace(/ \(deleted\)$/, "") === file;
    } catch {
      return false;
    }
  }).map((n) => `/dev/${n}`);
}

test("`podflare down` through a symlink to the state dir unmounts the pool mounted under its real path (it mounted it again)", async () => {
  const realState = `${stateDir}-real`;
  const linkState = `${stateDir}-link`;
  fs.mkdirSync(realState, { recursive: true });
  fs.rmSync(linkState, { force: true });
  fs.symlinkSync(realState, linkState);
  const poolDir = `${realState}/pool`;
  try {
    await createStoragePool({ stateDir: realState, driver: "btrfs", poolSizeGb: 2, log: () => {} });
    assert.ok(deviceAt(poolDir), "the pool is mounted");
    const r = runCli(["down"], linkState);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`storage pool of ${realState} unmounted`));
    assert.equal(deviceAt(poolDir), undefined, "the pool is unmounted");
    await eventually(() => loopsBackedBy(`${realState}/pool.img`).length === 0, "no loop device is left on the image", 10_000);
  } finally {
    if (deviceAt(poolDir)) spawnSync("umount", ["--lazy", poolDir]);
    for (const loop of loopsBackedBy(`${realState}/pool.img`)) spawnSync("losetup", ["-d", loop]);
    fs.rmSync(linkState, { force: true });
    fs.rmSync(realState, { recursive: true, force: true });
  }
});
