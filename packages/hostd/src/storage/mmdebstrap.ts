// Building a template tarball with mmdebstrap, turning its verbose output into progress.

import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { CommandError, run } from "./host-command.js";

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

export async function buildTarball(o: MmdebstrapOptions): Promise<void> {
  const tmp = `${o.output}.partial-${process.pid}.tar`;
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
    await run("mmdebstrap", args, {
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
  }
}
