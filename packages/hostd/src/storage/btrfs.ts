// Thin wrappers over btrfs-progs for subvolumes and qgroups.

import { lstat, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { constants } from "node:os";
import { jailServer } from "../jail/jail-server.js";
import { run } from "./host-command.js";

/** The root directory of a btrfs subvolume always has inode number 256. */
export async function isSubvolume(path: string): Promise<boolean> {
  try {
    const st = await lstat(path);
    return st.isDirectory() && st.ino === 256;
  } catch {
    return false;
  }
}

export async function createSubvolume(path: string): Promise<void> {
  await run("btrfs", ["-q", "subvolume", "create", path]);
}

const { EBUSY, ENOTEMPTY } = constants.errno;

// Snapshots, limits and deletes go through the jail server's ioctl helper (jail/btrfs_ioctl.py): the
// same ioctls btrfs-progs issues, without a process start per call (one per fork child).
interface BtrfsIoctlConfig {
  snapshots?: { src: string; dst: string; readOnly?: boolean }[];
  limits?: { path: string; bytes: number | null }[];
  /** Level-1 qgroups 1/group of the pool `path` is in, made if missing, with this exclusive limit. */
  groups?: { path: string; group: number; bytes: number | null }[];
  /** The subvolume at `path` joins 1/group. */
  assigns?: { path: string; group: number }[];
  deletes?: string[];
}

/** Throws an Error carrying the failed call's `errno` when there is one. */
async function btrfsIoctl(config: BtrfsIoctlConfig): Promise<void> {
  const r = await jailServer().request("btrfs", config, 60_000);
  if (r.code === 0) return;
  const last = r.stdout.trim().split("\n").pop() ?? "";
  let msg = `btrfs: exit ${r.code}`;
  let errno: number | undefined;
  try {
    const a = JSON.parse(last) as { error?: unknown; errno?: unknown };
    msg = String(a.error ?? msg);
    if (typeof a.errno === "number") errno = a.errno;
  } catch {
    /* not the helper's answer */
  }
  throw Object.assign(new Error(r.timedOut ? "btrfs: timed out" : msg), { errno });
}

export async function snapshotSubvolume(src: string, dst: string, readOnly = false): Promise<void> {
  await btrfsIoctl({ snapshots: [{ src, dst, readOnly }] });
}

/** Writable snapshots of src at each of dsts, in order; stops at the first failure. */
export async function snapshotSubvolumes(src: string, dsts: string[]): Promise<void> {
  await btrfsIoctl({ snapshots: dsts.map((dst) => ({ src, dst })) });
}

/** Subvolumes nested anywhere below `dir` (a sandbox can create its own), deepest first. */
async function nestedSubvolumes(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, dev: number): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      const p = join(d, entry.name);
      const st = await lstat(p).catch(() => null);
      if (!st) continue;
      // A nested subvolume shows as another device number with inode 256.
      const nested = st.ino === 256 && st.dev !== dev;
      await walk(p, st.dev);
      if (nested) found.push(p);
    }
  };
  await walk(dir, (await lstat(dir)).dev);
  return found;
}

/** Delete a subvolume, including subvolumes nested in it; a plain directory or file is removed too. */
export async function deleteSubvolume(path: string): Promise<void> {
  if (!(await isSubvolume(path))) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  const first = await btrfsIoctl({ deletes: [path] }).then(() => null, (e: Error & { errno?: number }) => e);
  if (first === null) return;
  if (first.errno === EBUSY) throw Object.assign(new Error(`${path}: ${first.message}`), { code: "EBUSY" });
  if (first.errno !== ENOTEMPTY) throw first;
  // Subvolumes a sandbox made inside its root: deepest first, then the root.
  await btrfsIoctl({ deletes: [...(await nestedSubvolumes(path)), path] });
}

// Simple quotas (squota, Linux 6.7+) account a write to the subvolume that allocates it, at
// allocation time. Full qgroups walk back-references instead: measured here, they made every
// snapshot (every sandbox create) take 0.7–1.8 s once a few hundred roots had come and gone;
// with squota a snapshot takes under 5 ms and a limit still stops writes (EDQUOT). btrfs-progs
// 6.2 cannot enable squota, so the ioctl is issued directly.
const SQUOTA_SCRIPT = `
import fcntl, os, struct, sys
BTRFS_IOC_QUOTA_CTL = 0xC0109428
DISABLE, ENABLE_SIMPLE = 2, 4
mount, mode = sys.argv[1], sys.argv[2]
fd = os.open(mount, os.O_RDONLY)
if mode == "qgroup":
    fcntl.ioctl(fd, BTRFS_IOC_QUOTA_CTL, bytearray(struct.pack("QQ", DISABLE, 0)))
if mode != "squota":
    fcntl.ioctl(fd, BTRFS_IOC_QUOTA_CTL, bytearray(struct.pack("QQ", ENABLE_SIMPLE, 0)))
`;

/** The quota mode of a mounted btrfs: "squota", "qgroup" or "off". */
export async function quotaMode(mount: string): Promise<"squota" | "qgroup" | "off"> {
  const uuid = await fsUuid(mount);
  try {
    if ((await readFile(`/sys/fs/btrfs/${uuid}/qgroups/enabled`, "utf8")).trim() !== "1") return "off";
    return (await readFile(`/sys/fs/btrfs/${uuid}/qgroups/mode`, "utf8")).trim() === "squota" ? "squota" : "qgroup";
  } catch {
    return "off";
  }
}

/** The filesystem's uuid: its directory under /sys/fs/btrfs. */
export async function fsUuid(mount: string): Promise<string> {
  const show = await run("btrfs", ["filesystem", "show", mount]);
  const uuid = /uuid:\s*([0-9a-f-]{36})/.exec(show.stdout)?.[1];
  if (!uuid) throw new Error(`cannot find the uuid of ${mount}`);
  return uuid;
}

/** Turns on simple quotas (replacing full qgroups); throws where the kernel lacks them. */
export async function enableSimpleQuota(mount: string): Promise<void> {
  const mode = await quotaMode(mount);
  if (mode === "squota") return;
  await run("/usr/bin/python3", ["-c", SQUOTA_SCRIPT, mount, mode]);
}

/**
 * Limit the exclusive size of each subvolume in `paths` (what it wrote beyond the extents it
 * shares with its template), so disk_mb is the space a sandbox can fill whatever the template
 * weighs; null removes the limit. One helper call for all.
 */
export async function qgroupLimits(paths: string[], bytes: number | null, group?: GroupJoin): Promise<void> {
  await btrfsIoctl({ limits: paths.map((path) => ({ path, bytes })), ...groupOps(paths, group) });
}

/** Subvolumes joining a level-1 qgroup; `limit` when the group's limit must be (re)set first. */
export interface GroupJoin {
  id: number;
  limit?: { poolPath: string; bytes: number };
}

function groupOps(paths: string[], group?: GroupJoin): Pick<BtrfsIoctlConfig, "groups" | "assigns"> {
  if (!group) return {};
  return {
    ...(group.limit ? { groups: [{ path: group.limit.poolPath, group: group.id, bytes: group.limit.bytes }] } : {}),
    assigns: paths.map((path) => ({ path, group: group.id })),
  };
}

/** The subvolumes at `paths` join the level-1 qgroup (one helper call). */
export async function joinQgroup(paths: string[], group: GroupJoin): Promise<void> {
  await btrfsIoctl(groupOps(paths, group));
}

export interface QgroupUsage {
  referencedBytes: number;
  exclusiveBytes: number;
  limitBytes: number | null;
}

/** The subvolume's own qgroup numbers (after a sync, so recent writes count). */
export async function qgroupUsage(path: string): Promise<QgroupUsage> {
  const r = await run("btrfs", ["qgroup", "show", "-f", "-e", "--raw", "--sync", path]);
  // qgroupid rfer excl max_excl
  for (const line of r.stdout.split("\n")) {
    const m = /^0\/\d+\s+(\d+)\s+(\d+)\s+(\S+)/.exec(line.trim());
    if (m) {
      return {
        referencedBytes: Number(m[1]),
        exclusiveBytes: Number(m[2]),
        limitBytes: m[3] === "none" ? null : Number(m[3]),
      };
    }
  }
  throw new Error(`no qgroup for ${path} (are quotas enabled?):\n${r.stdout}`);
}
