// What both drivers share: the layout of the pool, name checks, staging and atomic
// commit of templates, and the sandbox-root operations. A driver supplies how a volume is
// made, copied and removed (btrfs subvolumes or plain directories).
//
//   <root>/templates/<name>/        template root filesystem
//   <root>/templates/<name>.json    its manifest; a template without one does not count
//   <root>/templates/.staging-*     a template being built
//   <root>/sandboxes/<sbx_id>/      sandbox root filesystems

import { lstatSync } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PodflareError } from "@podflare/protocol";
import { sleep } from "./host-command.js";
import { assertSandboxId, assertSpaceId, assertTemplateName, isSandboxId, isSpaceId, isTemplateName, tmpSuffix } from "./names.js";
import type { DiskGroup, DiskGroupUsage, StorageDriver, StoragePool, TeardownOptions } from "./types.js";
import { pidAlive } from "./pid-alive.js";

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function isBusy(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === "EBUSY" || (typeof e.message === "string" && /busy/i.test(e.message));
}


export abstract class PoolBase implements StoragePool {
  abstract readonly driver: StorageDriver;
  abstract readonly root: string;
  readonly stateDir: string;
  protected readonly log: (msg: string) => void;

  constructor(stateDir: string, log?: (msg: string) => void) {
    this.stateDir = stateDir;
    this.log = log ?? ((msg) => console.warn(`[storage] ${msg}`));
  }

  /** Bring up the backing filesystem so that `root` is usable. */
  protected abstract initBackend(): Promise<void>;
  protected abstract teardownBackend(force: boolean): Promise<void>;
  /** Create an empty volume at `path`. */
  protected abstract makeVolume(path: string): Promise<void>;
  /** Make `dst` (absent) a writable copy of volume `src`, appearing complete or not at all. */
  protected abstract copyVolume(src: string, dst: string): Promise<void>;
  /** Several copies of one volume; a driver may do them in one go. */
  protected async copyVolumes(src: string, dsts: string[]): Promise<void> {
    await Promise.all(dsts.map((dst) => this.copyVolume(src, dst)));
  }
  /** Remove a volume and everything in it. */
  protected abstract removeVolume(path: string): Promise<void>;
  /** Make committed data durable; btrfs also pays its transaction commit here, not in the first snapshot. */
  protected async sync(): Promise<void> {}
  abstract setDiskLimitMb(id: string, mb: number | null, group?: DiskGroup): Promise<boolean>;
  abstract setDiskLimitsMb(ids: string[], mb: number | null, group?: DiskGroup): Promise<boolean>;
  abstract joinDiskGroup(ids: string[], group: DiskGroup): Promise<boolean>;
  abstract diskGroupUsage(group: DiskGroup): DiskGroupUsage | undefined;
  abstract diskUsageBytes(id: string): Promise<number>;

  protected get templatesDir(): string {
    return join(this.root, "templates");
  }
  protected get sandboxesDir(): string {
    return join(this.root, "sandboxes");
  }
  protected get spacesDir(): string {
    return join(this.root, "spaces");
  }

  async init(): Promise<void> {
    await this.initBackend();
    await mkdir(this.templatesDir, { recursive: true, mode: 0o700 });
    await mkdir(this.sandboxesDir, { recursive: true, mode: 0o700 });
    await mkdir(this.spacesDir, { recursive: true, mode: 0o700 });
    await this.removeLeftovers();
  }

  /** Staging and half-copied volumes of processes that died while making them. */
  private async removeLeftovers(): Promise<void> {
    for (const dir of [this.templatesDir, this.sandboxesDir, this.spacesDir]) {
      for (const entry of await readdir(dir)) {
        const m = /^\.(?:staging|old|tmp)-.*-(\d+)-[0-9a-f]+$/.exec(entry);
        if (!m || pidAlive(Number(m[1]))) continue;
        this.log(`removing leftover ${join(dir, entry)}`);
        await this.removeVolume(join(dir, entry)).catch((err) => this.log(`could not remove ${entry}: ${String(err)}`));
      }
    }
  }

  templatePath(name: string): string {
    assertTemplateName(name);
    return join(this.templatesDir, name);
  }

  templateManifestPath(name: string): string {
    assertTemplateName(name);
    return join(this.templatesDir, `${name}.json`);
  }

  async hasTemplate(name: string): Promise<boolean> {
    return this.hasTemplateNow(name);
  }

  // Two lstat calls on local metadata, made in place: through libuv's thread pool each would
  // wake a worker thread and then the loop, which on a small VM cost a pool-hit create ~0.3 ms.
  hasTemplateNow(name: string): boolean {
    if (!isTemplateName(name)) return false;
    return lstatSync(this.templateManifestPath(name), { throwIfNoEntry: false }) !== undefined && lstatSync(this.templatePath(name), { throwIfNoEntry: false }) !== undefined;
  }

  async listTemplateNames(): Promise<string[]> {
    const names: string[] = [];
    for (const entry of await readdir(this.templatesDir).catch(() => [] as string[])) {
      if (isTemplateName(entry) && (await this.hasTemplate(entry))) names.push(entry);
    }
    return names.sort();
  }

  async beginTemplate(name: string): Promise<string> {
    assertTemplateName(name);
    const path = join(this.templatesDir, `.staging-${name}-${tmpSuffix()}`);
    await this.makeVolume(path);
    return path;
  }

  async commitTemplate(name: string, stagingPath: string, manifestJson: string): Promise<void> {
    this.assertStaging(stagingPath);
    const target = this.templatePath(name);
    const manifest = this.templateManifestPath(name);
    const manifestTmp = join(this.templatesDir, `.tmp-${name}.json-${tmpSuffix()}`);
    await writeFile(manifestTmp, manifestJson, { mode: 0o644 });
    // Manifest first out and last in: at every instant the template is either complete or absent.
    await rm(manifest, { force: true });
    let old: string | null = null;
    if (await exists(target)) {
      old = join(this.templatesDir, `.old-${name}-${tmpSuffix()}`);
      await rename(target, old);
    }
    await rename(stagingPath, target);
    await rename(manifestTmp, manifest);
    if (old) await this.removeVolume(old);
    await this.sync();
  }

  async abortTemplate(stagingPath: string): Promise<void> {
    this.assertStaging(stagingPath);
    if (await exists(stagingPath)) await this.removeVolume(stagingPath);
  }

  async deleteTemplate(name: string): Promise<void> {
    await rm(this.templateManifestPath(name), { force: true });
    const path = this.templatePath(name);
    if (await exists(path)) await this.removeWithRetry(path);
  }

  private assertStaging(path: string): void {
    if (resolve(path) !== path || dirname(path) !== this.templatesDir || !basename(path).startsWith(".staging-")) {
      throw new Error(`not a staging path of this pool: ${path}`);
    }
  }

  sandboxRootPath(id: string): string {
    assertSandboxId(id);
    return join(this.sandboxesDir, id);
  }

  async createSandboxRoot(template: string, sandboxId: string): Promise<string> {
    return (await this.createSandboxRoots(template, [sandboxId]))[0]!;
  }

  /** Roots of one template (several: the warm pool's spawn), made by one helper call. */
  async createSandboxRoots(template: string, sandboxIds: string[]): Promise<string[]> {
    const dsts = sandboxIds.map((id) => this.sandboxRootPath(id));
    assertTemplateName(template);
    if (!(await this.hasTemplate(template))) {
      throw new PodflareError("template_not_found", `template ${JSON.stringify(template)} is not built on this host: run \`podflare templates build ${template}\``);
    }
    for (const [i, dst] of dsts.entries()) {
      if (await exists(dst)) throw new PodflareError("conflict", `sandbox root ${sandboxIds[i]} already exists`);
    }
    await this.copyVolumes(this.templatePath(template), dsts);
    return dsts;
  }

  async snapshotSandboxRoot(srcId: string, dstId: string): Promise<string> {
    const src = this.sandboxRootPath(srcId);
    const dst = this.sandboxRootPath(dstId);
    if (!(await exists(src))) throw new PodflareError("sandbox_not_found", `sandbox root ${srcId} does not exist`);
    if (await exists(dst)) throw new PodflareError("conflict", `sandbox root ${dstId} already exists`);
    await this.copyVolume(src, dst);
    return dst;
  }

  async snapshotSandboxRoots(srcId: string, dstIds: string[]): Promise<string[]> {
    const src = this.sandboxRootPath(srcId);
    const dsts = dstIds.map((id) => this.sandboxRootPath(id));
    if (!(await exists(src))) throw new PodflareError("sandbox_not_found", `sandbox root ${srcId} does not exist`);
    for (const [i, dst] of dsts.entries()) {
      if (await exists(dst)) throw new PodflareError("conflict", `sandbox root ${dstIds[i]} already exists`);
    }
    await this.copyVolumes(src, dsts);
    return dsts;
  }

  async deleteSandboxRoot(id: string): Promise<void> {
    const path = this.sandboxRootPath(id);
    if (!(await exists(path))) return;
    await this.removeWithRetry(path);
  }

  /** A root still mounted in a dying sandbox's namespace is busy for a moment: retry for up to ~3 s. */
  private async removeWithRetry(path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.removeVolume(path);
        return;
      } catch (err) {
        if (!(await exists(path))) return;
        if (!isBusy(err) || attempt >= 15) throw err;
        await sleep(50 * Math.min(attempt + 1, 8));
      }
    }
  }

  spaceRootPath(spaceId: string): string {
    assertSpaceId(spaceId);
    return join(this.spacesDir, spaceId);
  }

  async saveSpaceRoot(sandboxId: string, spaceId: string): Promise<string> {
    const src = this.sandboxRootPath(sandboxId);
    const dst = this.spaceRootPath(spaceId);
    if (!(await exists(src))) throw new PodflareError("sandbox_not_found", `sandbox root ${sandboxId} does not exist`);
    if (await exists(dst)) throw new PodflareError("conflict", `space ${spaceId} already exists`);
    await this.sync();
    await this.copyVolume(src, dst);
    return dst;
  }

  async createSandboxRootFromSpace(spaceId: string, sandboxId: string): Promise<string> {
    const src = this.spaceRootPath(spaceId);
    const dst = this.sandboxRootPath(sandboxId);
    if (!(await exists(src))) throw new PodflareError("space_not_found", `space ${spaceId} has no saved root filesystem`);
    if (await exists(dst)) throw new PodflareError("conflict", `sandbox root ${sandboxId} already exists`);
    await this.copyVolume(src, dst);
    return dst;
  }

  async deleteSpaceRoot(spaceId: string): Promise<void> {
    const path = this.spaceRootPath(spaceId);
    if (await exists(path)) await this.removeWithRetry(path);
  }

  async listSpaceRoots(): Promise<string[]> {
    const entries = await readdir(this.spacesDir).catch(() => [] as string[]);
    return entries.filter(isSpaceId).sort();
  }

  private spaceMarkPath(spaceId: string): string {
    assertSpaceId(spaceId);
    return join(this.spacesDir, `.pending-${spaceId}`);
  }

  async markSpacePending(spaceId: string, pending: boolean): Promise<void> {
    if (pending) await writeFile(this.spaceMarkPath(spaceId), "", { mode: 0o600 });
    else await rm(this.spaceMarkPath(spaceId), { force: true });
  }

  async pendingSpaces(): Promise<string[]> {
    const entries = await readdir(this.spacesDir).catch(() => [] as string[]);
    return entries.filter((e) => e.startsWith(".pending-") && isSpaceId(e.slice(9))).map((e) => e.slice(9));
  }

  async setAsideSpaceRoot(spaceId: string): Promise<string> {
    const dir = join(this.root, "spaces-lost");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const to = join(dir, spaceId);
    await rename(this.spaceRootPath(spaceId), to);
    return to;
  }

  async listSandboxRoots(): Promise<string[]> {
    const entries = await readdir(this.sandboxesDir).catch(() => [] as string[]);
    return entries.filter(isSandboxId).sort();
  }

  async teardown(opts: TeardownOptions = {}): Promise<void> {
    const roots = await this.listSandboxRoots();
    if (roots.length > 0 && !opts.force) {
      throw new PodflareError(
        "conflict",
        `${roots.length} sandbox root(s) still exist in the storage pool; close the sandboxes first or pass force`,
      );
    }
    await this.teardownBackend(Boolean(opts.force));
  }
}
