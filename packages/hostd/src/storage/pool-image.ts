// The loop file behind the btrfs pool, and the host disk it stands on. A sparse pool.img promises
// btrfs space the host disk may not have when it is wanted: once the disk is full, a write to a
// hole fails in the loop device, btrfs aborts its transaction and turns the whole pool read-only,
// for every sandbox on the host (checked on this machine: "critical space allocation error",
// "forced readonly"). So the file's blocks are reserved (fallocate) when it is made, and its
// holes filled again at every start; the pool is mounted `nodiscard`, so deleting files in it
// never punches new holes.

import { stat, statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { run } from "./host-command.js";

const GB = 1024 ** 3;
const MB = 1024 ** 2;
/** A size for a person: GB to one decimal, MB below 1 GB (so "0.0 GB" is never said). */
const gb = (bytes: number) => (bytes >= GB ? `${(bytes / GB).toFixed(1)} GB` : `${Math.ceil(bytes / MB)} MB`);

/** The storage pool cannot be made as asked (no room, a bad size): an error to fix, never a reason to fall back to the dir driver. */
export class PoolSetupError extends Error {}

/** The smallest pool the default size gives (a template alone takes about 0.5 GB). */
const MIN_DEFAULT_GB = 2;

/** Half the free space on the filesystem holding `dir`, in whole GB, at least 2 and at most 512. */
export async function defaultPoolSizeGb(dir: string): Promise<number> {
  return Math.max(MIN_DEFAULT_GB, Math.min(512, Math.floor((await freeBytes(dir)) / GB / 2)));
}

async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Bytes of `file` the filesystem has not allocated yet (its holes). */
export async function unbackedBytes(file: string): Promise<number> {
  const s = await stat(file);
  return Math.max(0, s.size - s.blocks * 512);
}

export type Reservation =
  | { reserved: true }
  /** no_room: the disk lacks the room; failed: the filesystem could not reserve (e.g. no fallocate). */
  | { reserved: false; unbackedBytes: number; why: string; cause: "no_room" | "failed" };

/** Allocates every hole of `file` (its data stays as it is); what is missing when it cannot. */
export async function reserveBlocks(file: string): Promise<Reservation> {
  const missing = await unbackedBytes(file);
  if (missing === 0) return { reserved: true };
  const free = await freeBytes(dirname(file));
  if (free < missing) {
    return { reserved: false, cause: "no_room", unbackedBytes: missing, why: `the disk holding it has ${gb(free)} free and ${gb(missing)} of the pool are not reserved` };
  }
  const size = (await stat(file)).size;
  const r = await run("fallocate", ["--length", String(size), file], { allowFail: true });
  if (r.code !== 0) {
    const cause = /no space left/i.test(r.stderr) ? "no_room" : "failed";
    return { reserved: false, cause, unbackedBytes: await unbackedBytes(file), why: `fallocate failed: ${r.stderr.trim()}` };
  }
  return { reserved: true };
}

/** What to log when a pool's file could not be reserved: the risk, and the two ways out. */
export function unreservedWarning(file: string, sizeBytes: number, r: Exclude<Reservation, { reserved: true }>): string {
  return (
    `WARNING: storage: ${file} (${gb(sizeBytes)}) is not all reserved on the host disk: ${r.why}. ` +
    `If the host disk fills up before the pool does, btrfs turns the pool read-only for every sandbox. ` +
    `Free ${gb(r.unbackedBytes)} more on the disk of ${dirname(file)} and restart hostd (it reserves the rest at start), ` +
    `or shrink the pool to fit (docs/storage.md, "The loop file")`
  );
}
