// Templates: a Debian tarball built by mmdebstrap (cached per spec hash), extracted into
// the pool with owners shifted into the sandbox uid range, then committed atomically.

import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { haveCommand } from "./host-command.js";
import { withLock } from "./lock.js";
import { buildTarball, buildTmpRoot, sweepBuildLeftovers, type ProgressFn, type TemplatePhase, type TemplateProgress } from "./mmdebstrap.js";
import { extractTarball, finishRootfs, shiftOwnership, UID_RANGE } from "./rootfs.js";
import { RECIPE_VERSION, specHash, templateSpec, templateSpecs } from "./template-specs.js";
import type { StoragePool } from "./types.js";

export interface TemplateManagerOptions {
  /** Default "trixie" (Debian 13). */
  suite?: string;
  /** Default http://deb.debian.org/debian. */
  mirror?: string;
  /** Where built tarballs are kept. Env PODFLARE_TEMPLATE_CACHE wins, then this, then `<stateDir>/cache`. */
  cacheDir?: string;
  /** First host uid of the sandbox range; template files are owned by uidBase + their uid. Default 100000. */
  uidBase?: number;
  log?: (msg: string) => void;
}

export interface TemplateManifest {
  name: string;
  specHash: string;
  recipeVersion: number;
  suite: string;
  mirror: string;
  packages: string[];
  builtAt: string;
  sizeBytes: number;
  uidBase: number;
  uidRange: number;
  tarball: string;
  /** How long each step of the last build took. */
  timingsMs: { mmdebstrap: number | null; unpack: number; shift: number; total: number };
}

export interface TemplateInfo {
  name: string;
  description: string;
  /** Built, complete and built from the current spec. */
  ready: boolean;
  /** Built, but from an older spec, recipe or uid base: ensureTemplate will rebuild it. */
  stale: boolean;
  sizeBytes: number | null;
  builtAt: string | null;
  packages: string[];
}

export interface BuildOptions {
  onProgress?: ProgressFn;
  /** Build from scratch: run mmdebstrap again even if a cached tarball exists. */
  force?: boolean;
}

/** At most one progress event per phase every 100 ms, but every phase change and every last count. */
function throttle(fn: ProgressFn | undefined): ProgressFn {
  if (!fn) return () => {};
  let last = 0;
  let lastPhase: TemplatePhase | null = null;
  return (p: TemplateProgress) => {
    const now = Date.now();
    const final = p.total !== undefined && p.done === p.total;
    if (p.phase !== lastPhase || final || now - last >= 100) {
      last = now;
      lastPhase = p.phase;
      fn(p);
    }
  };
}

export class TemplateManager {
  readonly suite: string;
  readonly mirror: string;
  readonly cacheDir: string;
  readonly uidBase: number;
  private readonly opts: TemplateManagerOptions;
  private readonly log: (msg: string) => void;

  constructor(
    readonly pool: StoragePool,
    opts: TemplateManagerOptions = {},
  ) {
    this.opts = opts;
    this.suite = opts.suite ?? "trixie";
    this.mirror = opts.mirror ?? "http://deb.debian.org/debian";
    this.cacheDir = process.env.PODFLARE_TEMPLATE_CACHE || opts.cacheDir || join(pool.stateDir, "cache");
    this.uidBase = opts.uidBase ?? 100000;
    this.log = opts.log ?? ((msg) => console.warn(`[storage] ${msg}`));
    if (!Number.isInteger(this.uidBase) || this.uidBase < UID_RANGE) {
      throw new Error(`uidBase must be an integer of at least ${UID_RANGE} (got ${this.uidBase})`);
    }
  }

  async readManifest(name: string): Promise<TemplateManifest | null> {
    try {
      return JSON.parse(await readFile(this.pool.templateManifestPath(name), "utf8")) as TemplateManifest;
    } catch {
      return null;
    }
  }

  private isCurrent(name: string, m: TemplateManifest): boolean {
    return (
      m.specHash === specHash(templateSpec(name), this.suite) &&
      m.recipeVersion === RECIPE_VERSION &&
      m.uidBase === this.uidBase
    );
  }

  async getTemplate(name: string): Promise<TemplateInfo> {
    const spec = templateSpec(name);
    const m = (await this.pool.hasTemplate(name)) ? await this.readManifest(name) : null;
    const current = m !== null && this.isCurrent(name, m);
    return {
      name,
      description: spec.description,
      ready: current,
      stale: m !== null && !current,
      sizeBytes: m?.sizeBytes ?? null,
      builtAt: m?.builtAt ?? null,
      packages: [...spec.packages],
    };
  }

  async listTemplates(): Promise<TemplateInfo[]> {
    return Promise.all(Object.keys(templateSpecs).map((name) => this.getTemplate(name)));
  }

  /** Build the template only if it is missing or stale. */
  async ensureTemplate(name: string, opts: Pick<BuildOptions, "onProgress"> = {}): Promise<TemplateInfo> {
    const info = await this.getTemplate(name);
    if (info.ready) return info;
    return this.build(name, { onProgress: opts.onProgress }, true);
  }

  /** (Re)build the template from the cached tarball, or from mmdebstrap with `force` or no cache. */
  async buildTemplate(name: string, opts: BuildOptions = {}): Promise<TemplateInfo> {
    return this.build(name, opts, false);
  }

  private async build(name: string, opts: BuildOptions, onlyIfStale: boolean): Promise<TemplateInfo> {
    const spec = templateSpec(name);
    const progress = throttle(opts.onProgress);
    const lock = join(this.pool.stateDir, "locks", `template-${name}.lock`);
    const onWait = () => progress({ template: name, phase: "resolving", message: "waiting for another build of this template" });
    return withLock(lock, async () => {
      // Whoever held the lock may just have built it.
      if (onlyIfStale && (await this.getTemplate(name)).ready) return this.getTemplate(name);
      const started = Date.now();
      const hash = specHash(spec, this.suite);
      const tarball = join(this.cacheDir, `${name}-${hash}.tar`);
      const mmdebstrapMs = await this.ensureTarball(name, tarball, Boolean(opts.force), progress);

      const staging = await this.pool.beginTemplate(name);
      try {
        progress({ template: name, phase: "unpacking", done: 0, message: `extracting ${tarball}` });
        let t = Date.now();
        const entries = await extractTarball(tarball, staging, (n) =>
          progress({ template: name, phase: "unpacking", done: n, message: "extracting into the pool" }),
        );
        const unpackMs = Date.now() - t;
        t = Date.now();
        progress({ template: name, phase: "shifting", done: 0, total: entries, message: `shifting owners to ${this.uidBase}+` });
        const shifted = await shiftOwnership(staging, this.uidBase, (n) =>
          progress({ template: name, phase: "shifting", done: Math.min(n, entries), total: entries, message: "shifting owners" }),
        );
        await finishRootfs(staging, this.uidBase);
        const shiftMs = Date.now() - t;
        progress({ template: name, phase: "finishing", message: "committing template" });
        const manifest: TemplateManifest = {
          name,
          specHash: hash,
          recipeVersion: RECIPE_VERSION,
          suite: this.suite,
          mirror: this.mirror,
          packages: [...spec.packages],
          builtAt: new Date().toISOString(),
          sizeBytes: shifted.sizeBytes,
          uidBase: this.uidBase,
          uidRange: UID_RANGE,
          tarball,
          timingsMs: { mmdebstrap: mmdebstrapMs, unpack: unpackMs, shift: shiftMs, total: Date.now() - started },
        };
        await this.pool.commitTemplate(name, staging, JSON.stringify(manifest, null, 2) + "\n");
        const sizeMb = Math.round(shifted.sizeBytes / 1e6);
        const took = ((Date.now() - started) / 1000).toFixed(1);
        progress({ template: name, phase: "done", message: `template ${name} ready (${sizeMb} MB, ${took} s)` });
        this.log(`template ${name} built in ${took} s (${sizeMb} MB, ${entries} files${mmdebstrapMs === null ? ", cached tarball" : ""})`);
      } catch (err) {
        await this.pool.abortTemplate(staging).catch(() => {});
        throw err;
      }
      return this.getTemplate(name);
    }, { onWait });
  }

  /** What template builds of a hostd that died left in the cache directory (mounts and chroots). */
  sweepBuilds(): Promise<void> {
    return sweepBuildLeftovers(buildTmpRoot(this.cacheDir), this.log);
  }

  /** Tarballs half-written by an mmdebstrap whose hostd died (we hold the tarball lock here). */
  private async removeStalePartials(tarball: string): Promise<void> {
    const prefix = `${basename(tarball)}.partial-`;
    for (const entry of await readdir(this.cacheDir).catch(() => [] as string[])) {
      if (entry.startsWith(prefix)) await rm(join(this.cacheDir, entry), { force: true });
    }
  }

  /** Returns how long mmdebstrap took, or null when the cached tarball was used. */
  private async ensureTarball(name: string, tarball: string, force: boolean, progress: ProgressFn): Promise<number | null> {
    const have = async () => (await stat(tarball).catch(() => null))?.isFile() ?? false;
    if (!force && (await have())) return null;
    await mkdir(this.cacheDir, { recursive: true, mode: 0o755 });
    // Separate lock: several state dirs (test runs) may share one cache directory.
    return withLock(`${tarball}.lock`, async () => {
      if (!force && (await have())) return null;
      await this.removeStalePartials(tarball);
      if (!(await haveCommand("mmdebstrap"))) {
        // Installing is set-up's job (`podflare setup`), never the running daemon's.
        throw new Error("mmdebstrap is not installed: run `podflare setup` (or apt-get install mmdebstrap) as root");
      }
      const spec = templateSpec(name);
      const t = Date.now();
      progress({ template: name, phase: "resolving", message: `mmdebstrap ${this.suite} from ${this.mirror}` });
      await buildTarball({
        template: name,
        suite: this.suite,
        mirror: this.mirror,
        packages: spec.packages,
        output: tarball,
        logPath: tarball.replace(/\.tar$/, ".log"),
        onProgress: progress,
      });
      return Date.now() - t;
    });
  }
}

/** `new TemplateManager(pool, opts)` in the shape hostd wires it. */
export function createTemplateManager(opts: TemplateManagerOptions & { pool: StoragePool }): TemplateManager {
  const { pool, ...rest } = opts;
  return new TemplateManager(pool, rest);
}
