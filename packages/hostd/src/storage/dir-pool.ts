// The dir driver, for hosts without btrfs: plain directories and full copies
// (`cp -a --reflink=auto`, so a reflink-capable filesystem such as xfs still shares extents).
// Same behaviour as btrfs, slower, and no disk caps.

import { mkdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PodflareError } from "@podflare/protocol";
import { run } from "./host-command.js";
import { tmpSuffix } from "./names.js";
import { PoolBase } from "./pool-base.js";
import type { StorageOptions } from "./types.js";

export class DirPool extends PoolBase {
  readonly driver = "dir" as const;
  readonly root: string;

  constructor(opts: StorageOptions) {
    super(resolve(opts.stateDir), opts.log);
    this.root = join(this.stateDir, "pool-dir");
  }

  protected async initBackend(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  protected async teardownBackend(): Promise<void> {
    // Nothing is mounted or attached.
  }

  protected async makeVolume(path: string): Promise<void> {
    await mkdir(path, { mode: 0o755 });
  }

  protected async copyVolume(src: string, dst: string): Promise<void> {
    // Copy under a temporary name and rename, so a half copy is never taken for a root.
    const tmp = join(dirname(dst), `.tmp-${basename(dst)}-${tmpSuffix()}`);
    try {
      await run("cp", ["-a", "--reflink=auto", "--no-target-directory", src, tmp]);
      await rename(tmp, dst);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  protected async removeVolume(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  }

  setDiskLimitMb(id: string): Promise<boolean> {
    return this.setDiskLimitsMb([id]);
  }

  async setDiskLimitsMb(ids: string[]): Promise<boolean> {
    for (const id of ids) this.sandboxRootPath(id);
    return false;
  }

  async joinDiskGroup(ids: string[]): Promise<boolean> {
    return this.setDiskLimitsMb(ids);
  }

  diskGroupUsage(): undefined {
    return undefined;
  }

  async diskUsageBytes(id: string): Promise<number> {
    const path = this.sandboxRootPath(id);
    const r = await run("du", ["-s", "-x", "-B1", path], { allowFail: true });
    if (r.code !== 0) throw new PodflareError("sandbox_not_found", `sandbox root ${id} does not exist`);
    return Number(r.stdout.split(/\s/)[0]);
  }
}
