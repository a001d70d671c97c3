// A storage pool whose state dir is gone while it stayed mounted: an operator deleted the state
// dir under a running hostd (or by hand after a crash). Nothing on disk says where the pool was
// any more, so `podflare down` finds it from the kernel: mounts at or under the state dir (the
// kernel marks a deleted mount point "//deleted") and loop devices backed by a file inside it
// (a deleted backing file reads "<path> (deleted)").
import { readdirSync, readFileSync } from "node:fs";
import { run } from "./host-command.js";
import { readMounts } from "./mounts.js";

export interface LeftoverPool {
  /** Mount points at or under the state dir, deepest first (the order they unmount in). */
  mounts: string[];
  /** Loop devices whose backing file is inside the state dir. */
  loops: string[];
}

const within = (dir: string, p: string): boolean => p === dir || p.startsWith(`${dir}/`);

export async function findLeftoverPool(stateDir: string): Promise<LeftoverPool> {
  const dir = stateDir.replace(/\/+$/, "");
  const mounts = (await readMounts())
    .map((m) => m.mountPoint.replace(/\/\/deleted$/, ""))
    .filter((p) => within(dir, p))
    .sort((a, b) => b.length - a.length);
  const loops: string[] = [];
  for (const name of readdirSync("/sys/block").filter((n) => /^loop\d+$/.test(n))) {
    let backing: string;
    try {
      backing = readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8").trim();
    } catch {
      continue; // not attached
    }
    if (within(dir, backing.replace(/ \(deleted\)$/, ""))) loops.push(`/dev/${name}`);
  }
  return { mounts: [...new Set(mounts)], loops };
}

/** Unmounts and detaches what findLeftoverPool found; lazily when a mount is busy and `force`. */
export async function removeLeftoverPool(found: LeftoverPool, force: boolean): Promise<void> {
  for (const m of found.mounts) {
    const r = await run("umount", [m], { allowFail: true });
    if (r.code === 0) continue;
    if (!force) throw new Error(`cannot unmount ${m}: ${r.stderr.trim()} (podflare down --force unmounts it lazily)`);
    await run("umount", ["--lazy", m]);
  }
  for (const loop of found.loops) await run("losetup", ["-d", loop], { allowFail: true });
}
