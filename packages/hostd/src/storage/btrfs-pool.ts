// The btrfs driver: templates are subvolumes, sandbox roots are writable snapshots, disk
// caps are qgroup limits. The filesystem is a loop file under the state directory, its blocks
// reserved on the host disk (pool-image.ts; created, attached and mounted on first start,
// reused afterwards) or a btrfs mount the operator names.

import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { PodflareError } from "@podflare/protocol";
import * as btrfs from "./btrfs.js";
import { haveCommand, run } from "./host-command.js";
import { fsTypeOf, loopDevicesFor, mountAt } from "./mounts.js";
import { tmpSuffix } from "./names.js";
import { defaultPoolSizeGb, PoolSetupError, reserveBlocks, unreservedWarning } from "./pool-image.js";
import { PoolBase } from "./pool-base.js";
import type { DiskGroup, DiskGroupUsage, StorageOptions } from "./types.js";

const GB = 1024 ** 3;

export class BtrfsPool extends PoolBase {
  readonly driver = "btrfs" as const;
  readonly root: string;
  /** The loop file, or null when the operator gave a mount (poolPath). */
  readonly imagePath: string | null;
  private readonly opts: StorageOptions;
  /** Whether disk_mb can be enforced (btrfs simple quotas are on). */
  diskCaps = false;
  /** The filesystem's directory under /sys/fs/btrfs (qgroup usage is read there). */
  private sysDir: string | null = null;
  /** Groups whose limit this run has set, with the limit: set again only when it changes. */
  private readonly groupLimits = new Map<number, number>();

  constructor(opts: StorageOptions) {
    super(resolve(opts.stateDir), opts.log);
    this.opts = opts;
    this.root = opts.poolPath ? resolve(opts.poolPath) : join(this.stateDir, "pool");
    this.imagePath = opts.poolPath ? null : join(this.stateDir, "pool.img");
  }

  /** The loop device backing the pool image, if attached. */
  async loopDevice(): Promise<string | null> {
    return this.imagePath ? ((await loopDevicesFor(this.imagePath))[0] ?? null) : null;
  }

  protected async initBackend(): Promise<void> {
    await this.ensureTools();
    if (!this.imagePath) {
      const type = await fsTypeOf(this.root).catch(() => "missing");
      if (type !== "btrfs") throw new Error(`poolPath ${this.root} is not a btrfs filesystem (it is ${type})`);
    } else {
      await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
      if (!(await this.ensureImage())) await this.reserveImage();
      await this.ensureMounted();
    }
    try {
      await btrfs.enableSimpleQuota(this.root);
      this.diskCaps = true;
      this.sysDir = `/sys/fs/btrfs/${await btrfs.fsUuid(this.root)}`;
      // Deleted sandbox roots leave their qgroups behind as <stale>.
      await run("btrfs", ["qgroup", "clear-stale", this.root], { allowFail: true });
    } catch (err) {
      // Full qgroups would cost a second per create; run without disk caps rather than slowly.
      this.diskCaps = false;
      this.opts.log?.(`disk caps (disk_mb) are off: this kernel has no btrfs simple quotas (${(err as Error).message.split("\n")[0]})`);
    }
  }

  private async ensureTools(): Promise<void> {
    if (!(await haveCommand("mkfs.btrfs")) || !(await haveCommand("btrfs"))) {
      // Installing is set-up's job (`podflare setup`), never the running daemon's.
      throw new Error("btrfs-progs is not installed: run `podflare setup` (or apt-get install btrfs-progs) as root");
    }
    const filesystems = await readFile("/proc/filesystems", "utf8");
    if (!/\tbtrfs$/m.test(filesystems)) {
      await run("modprobe", ["btrfs"], { allowFail: true });
      if (!/\tbtrfs$/m.test(await readFile("/proc/filesystems", "utf8"))) {
        throw new Error("the kernel has no btrfs support (not in /proc/filesystems, modprobe btrfs failed)");
      }
    }
  }

  /** Create, reserve and format the image once (true: made now); a crash mid-way leaves only a temp file. */
  private async ensureImage(): Promise<boolean> {
    const image = this.imagePath!;
    const existing = await stat(image).catch(() => undefined);
    if (existing) {
      // The size is the image's, set when it was made: say so rather than ignore the setting.
      const asked = this.opts.poolSizeGb;
      if (asked !== undefined && Math.round(existing.size / GB) !== asked) {
        this.log(`WARNING: PODFLARE_POOL_SIZE_GB=${asked}, but the pool image ${image} is ${(existing.size / GB).toFixed(1)} GB: a pool keeps the size it was made with (docs/storage.md)`);
      }
      return false;
    }
    const sizeGb = this.opts.poolSizeGb ?? (await defaultPoolSizeGb(this.stateDir));
    if (!(Number.isInteger(sizeGb) && sizeGb >= 1)) throw new PoolSetupError(`PODFLARE_POOL_SIZE_GB must be a whole number of GB, at least 1 (got ${sizeGb})`);
    const tmp = `${image}.tmp-${tmpSuffix()}`;
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.truncate(Math.floor(sizeGb * GB));
    } finally {
      await fh.close();
    }
    try {
      const reservation = await reserveBlocks(tmp);
      if (!reservation.reserved) {
        // A filesystem that cannot reserve (no fallocate) still gets a pool, with the risk logged;
        // one without the room gets none: the pool would break when the disk fills.
        if (reservation.cause === "no_room") {
          throw new PoolSetupError(`cannot make a ${sizeGb} GB storage pool in ${this.stateDir}: ${reservation.why}; set PODFLARE_POOL_SIZE_GB to a size the disk has free (it is reserved whole, docs/storage.md)`);
        }
        this.log(unreservedWarning(image, sizeGb * GB, reservation));
      }
      await run("mkfs.btrfs", ["-q", "-L", "podflare-pool", tmp]);
      await rename(tmp, image);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.log(`created btrfs pool image ${image} (${sizeGb} GB, reserved on the host disk)`);
    return true;
  }

  /** Fills the holes of an existing image (one made sparse by an older hostd, or trimmed); logs what it cannot. */
  private async reserveImage(): Promise<void> {
    const image = this.imagePath!;
    const reservation = await reserveBlocks(image);
    if (!reservation.reserved) this.log(unreservedWarning(image, (await stat(image)).size, reservation));
  }

  private async ensureMounted(): Promise<void> {
    const image = this.imagePath!;
    const existingLoops = await loopDevicesFor(image);
    const mounted = await mountAt(this.root);
    if (mounted) {
      if (mounted.fsType === "btrfs" && existingLoops.includes(mounted.source)) {
        // Mounted by an older hostd, which left discard on (the kernel's default for btrfs).
        if (/(^|,)discard/.test(mounted.superOptions)) await run("mount", ["-o", "remount,nodiscard", this.root]);
        return;
      }
      throw new Error(`${this.root} is already a mount point of ${mounted.source} (${mounted.fsType}), not of ${image}`);
    }
    let loop = existingLoops[0];
    if (!loop) {
      loop = (await run("losetup", ["--find", "--show", image])).stdout.trim();
      if (!/^\/dev\/loop\d+$/.test(loop)) throw new Error(`losetup gave an unexpected device ${JSON.stringify(loop)}`);
    }
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    // nodev: device nodes in a sandbox root never act as devices; the jail brings its own /dev.
    // nodiscard: freed blocks stay reserved in pool.img (a discard punches a hole in it).
    await run("mount", ["-t", "btrfs", "-o", "noatime,nodev,nodiscard", loop, this.root]);
  }

  protected async teardownBackend(force: boolean): Promise<void> {
    if (!this.imagePath) return; // an operator's mount is not ours to unmount
    const mounted = await mountAt(this.root);
    if (mounted) {
      const r = await run("umount", [this.root], { allowFail: true });
      if (r.code !== 0) {
        if (!force) throw new Error(`cannot unmount ${this.root}: ${r.stderr.trim()}`);
        await run("umount", ["--lazy", this.root]);
      }
    }
    for (const loop of await loopDevicesFor(this.imagePath)) {
      await run("losetup", ["-d", loop], { allowFail: true });
    }
  }

  protected override async sync(): Promise<void> {
    await run("btrfs", ["filesystem", "sync", this.root]);
  }

  protected async makeVolume(path: string): Promise<void> {
    await btrfs.createSubvolume(path);
  }

  protected async copyVolume(src: string, dst: string): Promise<void> {
    await btrfs.snapshotSubvolume(src, dst);
  }

  protected override async copyVolumes(src: string, dsts: string[]): Promise<void> {
    // One after another in one helper: btrfs commits a transaction per snapshot either way,
    // and n helpers at once only add processes competing for the same commits.
    await btrfs.snapshotSubvolumes(src, dsts);
  }

  protected async removeVolume(path: string): Promise<void> {
    await btrfs.deleteSubvolume(path);
  }

  setDiskLimitMb(id: string, mb: number | null, group?: DiskGroup): Promise<boolean> {
    return this.setDiskLimitsMb([id], mb, group);
  }

  async setDiskLimitsMb(ids: string[], mb: number | null, group?: DiskGroup): Promise<boolean> {
    if (mb !== null && !(Number.isFinite(mb) && mb > 0)) throw new PodflareError("bad_request", `disk limit must be a positive number of MB (got ${mb})`);
    const paths = await this.rootPaths(ids);
    if (!this.diskCaps) return false;
    await btrfs.qgroupLimits(paths, mb === null ? null : Math.floor(mb * 1024 * 1024), this.groupJoin(group));
    this.groupSet(group);
    return true;
  }

  async joinDiskGroup(ids: string[], group: DiskGroup): Promise<boolean> {
    const paths = await this.rootPaths(ids);
    if (!this.diskCaps) return false;
    await btrfs.joinQgroup(paths, this.groupJoin(group)!);
    this.groupSet(group);
    return true;
  }

  diskGroupUsage(group: DiskGroup): DiskGroupUsage | undefined {
    if (!this.sysDir) return undefined;
    const dir = `${this.sysDir}/qgroups/1_${group.id}`;
    try {
      const max = readFileSync(`${dir}/max_exclusive`, "utf8").trim();
      return { usedBytes: Number(readFileSync(`${dir}/exclusive`, "utf8")), limitBytes: max === "0" || max === "" ? null : Number(max) };
    } catch {
      return undefined;
    }
  }

  private async rootPaths(ids: string[]): Promise<string[]> {
    const paths = ids.map((id) => this.sandboxRootPath(id));
    for (const [i, path] of paths.entries()) {
      if (!(await btrfs.isSubvolume(path))) throw new PodflareError("sandbox_not_found", `sandbox root ${ids[i]} does not exist`);
    }
    return paths;
  }

  /** The group to join, with its limit when this run has not set it (or it changed). */
  private groupJoin(group?: DiskGroup): btrfs.GroupJoin | undefined {
    if (!group) return undefined;
    const set = this.groupLimits.get(group.id) === group.bytes;
    return { id: group.id, ...(set ? {} : { limit: { poolPath: this.root, bytes: group.bytes } }) };
  }

  private groupSet(group?: DiskGroup): void {
    if (group) this.groupLimits.set(group.id, group.bytes);
  }

  async diskUsageBytes(id: string): Promise<number> {
    const path = this.sandboxRootPath(id);
    if (!(await btrfs.isSubvolume(path))) throw new PodflareError("sandbox_not_found", `sandbox root ${id} does not exist`);
    return (await btrfs.qgroupUsage(path)).referencedBytes;
  }
}
