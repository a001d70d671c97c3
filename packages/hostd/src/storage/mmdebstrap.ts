// Building a template tarball with mmdebstrap, turning its verbose output into progress.

import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CommandError, run } from "./host-command.js";
import { readMounts } from "./mounts.js";
import { pidAlive } from "./pid-alive.js";

export type TemplatePhase =
  | "resolving" // apt-get update, dependency resolution
  | "downloading" // done/total packages
  | "extracting" // mmdebstrap unpacks the essential set
  | "installing" // dpkg unpacks and configures; done/total packages
  | "packing" // mmdebstrap cleans up and writes the tarball
  | "unpacking" // we extract the tarball into the pool
  | "shifting" // we shift uids/gids into the sandbox range; done/total files
  | "finishing" // manifest, commit
  | "done";

export interface TemplateProgress {
  template: string;
  phase: TemplatePhase;
  done?: number;
  total?: number;
  message: string;
}

export type ProgressFn = (p: TemplateProgress) => void;

/** A line-by-line parser of `mmdebstrap --verbose` output. */
export class MmdebstrapProgress {
  private phase: TemplatePhase = "resolving";
  private total = 0;
  private downloaded = 0;
  private unpacked = 0;
  private configured = 0;

  constructor(
    private readonly template: string,
    private readonly emit: ProgressFn,
  ) {}

  line(raw: string): void {
    const line = raw.trim();
    const info = /^I: (.*)$/.exec(line)?.[1];
    if (info !== undefined) return this.info(info);
    const newly = /(\d+) newly installed/.exec(line);
    if (newly) {
      this.total += Number(newly[1]);
      return this.set("downloading", this.downloaded, `${this.total} packages to install`);
    }
    // Get:12 http://deb.debian.org/debian trixie/main amd64 libc6 amd64 2.41-12 [2850 kB]
    const get = /^Get:\d+ \S+ \S+ (\S+) (\S+) \S+ \S+ \[/.exec(line);
    if (get && this.phase === "downloading") {
      this.downloaded++;
      return this.set("downloading", this.downloaded, get[2]!);
    }
    const unpack = /^Unpacking ([^\s:]+)/.exec(line);
    if (unpack) {
      this.unpacked++;
      return this.set("installing", this.installedCount(), `unpacking ${unpack[1]}`);
    }
    const setup = /^Setting up ([^\s:]+)/.exec(line);
    if (setup) {
      this.configured++;
      return this.set("installing", this.installedCount(), `setting up ${setup[1]}`);
    }
  }

  private installedCount(): number {
    return Math.floor((this.unpacked + this.configured) / 2);
  }

  private info(msg: string): void {
    if (/^running apt-get update/.test(msg)) this.set("resolving", undefined, "updating package lists");
    else if (/^downloading packages/.test(msg)) this.set("downloading", this.downloaded, "resolving dependencies");
    else if (/^extracting archives/.test(msg)) this.set("extracting", undefined, "extracting essential packages");
    else if (/^installing essential/.test(msg)) this.set("installing", this.installedCount(), "installing essential packages");
    else if (/^installing remaining/.test(msg)) this.set("resolving", undefined, "resolving remaining packages");
    else if (/^(cleaning|creating tarball)/.test(msg)) this.set("packing", undefined, msg.replace(/\.\.\.$/, ""));
  }

  private set(phase: TemplatePhase, done: number | undefined, message: string): void {
    this.phase = phase;
    const counted = done !== undefined && this.total > 0;
    this.emit({
      template: this.template,
      phase,
      ...(counted ? { done: Math.min(done, this.total), total: this.total } : {}),
      message,
    });
  }
}

export interface MmdebstrapOptions {
  template: string;
  suite: string;
  mirror: string;
  packages: readonly string[];
  /** Final tarball path; written under a temporary name and renamed when complete. */
  output: string;
  /** Full mmdebstrap output goes here. */
  logPath: string;
  onProgress?: ProgressFn;
}

/**
 * Where mmdebstrap makes its chroots (its TMPDIR): one directory per build, named
 * `<hostd pid>-<template>`, beside the tarball cache. A hostd killed mid-build left
 * `/tmp/mmdebstrap.*` (1.2 GB for python-datasci) with proc, sysfs, devpts and a tmpfs mounted
 * on the host, which nothing removed (outside tester tl); builds now run with
 * `setpriv --pdeathsig KILL`, and what a dead build left is swept before the next one and at
 * every start (sweepBuildLeftovers).
 */
export function buildTmpRoot(cacheDir: string): string {
  return join(cacheDir, "mmdebstrap-tmp");
}

/** Unmounts and removes the build directories of builds whose hostd is gone. */
export async function sweepBuildLeftovers(root: string, log: (msg: string) => void = () => {}): Promise<void> {
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    const pid = Number(entry.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) continue; // a build under way (this or another hostd)
    if (await removeBuildDir(join(root, entry), log)) log(`removed ${join(root, entry)}, left by a template build whose hostd died`);
  }
}

/** Unmounts what is mounted under `dir`, then removes it; false (and a warning) if a mount stays. */
async function removeBuildDir(dir: string, log: (msg: string) => void): Promise<boolean> {
  const under = async () => (await readMounts()).map((m) => m.mountPoint).filter((p) => p.startsWith(`${dir}/`));
  for (const m of (await under()).sort((a, b) => b.length - a.length)) await run("umount", ["--lazy", m], { allowFail: true });
  const left = await under();
  if (left.length) {
    // Never a recursive delete into a mounted /proc or /sys.
    log(`WARNING: could not unmount ${left.join(", ")}: ${dir} is left as it is; unmount them and remove it`);
    return false;
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}


export async function buildTarball(o: MmdebstrapOptions): Promise<void> {
  const tmp = `${o.output}.partial-${process.pid}.tar`;
  const tmpRoot = buildTmpRoot(dirname(o.output));
  await sweepBuildLeftovers(tmpRoot);
  const workDir = join(tmpRoot, `${process.pid}-${o.template}`);
  await removeBuildDir(workDir, () => {});
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const log = createWriteStream(o.logPath);
  const parser = new MmdebstrapProgress(o.template, o.onProgress ?? (() => {}));
  const args = [
    "--verbose",
    "--mode=root",
    "--variant=minbase",
    "--format=tar",
    `--include=${o.packages.join(",")}`,
    o.suite,
    tmp,
    o.mirror,
  ];
  try {
    // Killed with hostd: an orphaned build ran on for a minute after it (outside tester tl).
    await run("setpriv", ["--pdeathsig", "KILL", "--", "mmdebstrap", ...args], {
      env: { TMPDIR: workDir },
      keepBytes: 64 * 1024,
      onLine: (line) => {
        log.write(line + "\n");
        parser.line(line);
      },
    });
    await rename(tmp, o.output);
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof CommandError) {
      throw new Error(`building template ${o.template} with mmdebstrap failed (full log: ${o.logPath}): ${err.message}`);
    }
    throw err;
  } finally {
    await new Promise<void>((r) => log.end(() => r()));
    await removeBuildDir(workDir, () => {}).catch(() => undefined);
  }
}
