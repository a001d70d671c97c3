// Shared set-up for the jail tests: a root filesystem extracted once per test file from the
// template tarball (uids shifted into the sandbox range), sandboxes launched into their own
// cgroups under a per-process parent group, and a cleanup that kills and removes all of it.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  CgroupManager,
  launchSandbox,
  runInSandbox,
  startKernel,
  type CgroupLimits,
  type CgroupManagerType,
  type RunResult,
  type SandboxInit,
} from "./jail.js";

export const UID_BASE = 100_000;
export const UID_COUNT = 65_536;
const WORK_PREFIX = "/tmp/podflare-test-jail-";

/** Fail (never skip) without root: these tests create namespaces, mounts and cgroups. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("jail tests need root (user namespaces with id maps, mounts, cgroups): run them as root");
  }
}

/** The default template tarball: the storage layer's cache if present, else the hand-built one. */
export function templateTarball(): string {
  const cache = process.env.PODFLARE_TEMPLATE_CACHE ?? "/var/cache/podflare-templates";
  try {
    const tars = fs.readdirSync(cache).filter((f) => /^default-.*\.tar$/.test(f)).sort();
    const last = tars[tars.length - 1];
    if (last) return path.join(cache, last);
  } catch {
    /* no cache */
  }
  if (fs.existsSync("/tmp/tpl-default.tar")) return "/tmp/tpl-default.tar";
  throw new Error(`no template tarball: expected ${cache}/default-*.tar or /tmp/tpl-default.tar`);
}

/** Walk a tree and move every owner into the sandbox's uid range (lchown clears setuid bits:
 * put the mode back). */
function shiftOwners(dir: string): void {
  const shift = (p: string, isLink: boolean) => {
    const st = fs.lstatSync(p);
    fs.lchownSync(p, st.uid + UID_BASE, st.gid + UID_BASE);
    if (!isLink && st.mode & 0o6000) fs.chmodSync(p, st.mode & 0o7777);
  };
  shift(dir, false);
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop() as string;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      shift(p, e.isSymbolicLink());
      if (e.isDirectory()) stack.push(p);
    }
  }
}

export function extractRootfs(dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  execFileSync("tar", ["--numeric-owner", "-xpf", templateTarball(), "-C", dest]);
  shiftOwners(dest);
}

export function newId(): string {
  return `sbx_${randomBytes(16).toString("hex")}`;
}

export interface TestSandbox extends SandboxInit {
  id: string;
  cgroupProcs: string[];
}

export const DEFAULT_LIMITS: CgroupLimits = { memoryMb: 512, vcpus: 1, pidsMax: 512 };

/** One per test file: a work dir with a rootfs and a guest dir, and the sandboxes launched. */
export class JailFixture {
  readonly work: string;
  readonly rootfs: string;
  readonly guestDir: string;
  readonly cg: CgroupManagerType;
  private readonly ids = new Set<string>();
  private readonly mounts: string[] = [];

  constructor() {
    requireRoot();
    this.work = fs.mkdtempSync(WORK_PREFIX);
    // Names this process, so npm test can sweep what is left if it is killed (scripts/test-leftovers.mjs).
    fs.writeFileSync(path.join(this.work, "owner.pid"), `${process.pid}\n`);
    this.rootfs = path.join(this.work, "rootfs");
    this.guestDir = path.join(this.work, "guest");
    fs.mkdirSync(this.guestDir, { mode: 0o755 });
    fs.writeFileSync(path.join(this.guestDir, "hello.txt"), "hello from the host\n", { mode: 0o644 });
    // A parent group of our own, so a hostd running beside the tests never reconciles ours.
    this.cg = new CgroupManager({ parent: `podflare-test-jail-${process.pid}` });
    extractRootfs(this.rootfs);
  }

  /** A copy-on-write copy of the extracted rootfs (an overlay mount): instant, and like a
   * snapshot, writes to it never reach the original or another copy. */
  overlayCopy(name: string): string {
    const base = path.join(this.work, name);
    const [upper, workdir, merged] = ["upper", "work", "merged"].map((d) => path.join(base, d)) as [string, string, string];
    for (const d of [upper, workdir, merged]) fs.mkdirSync(d, { recursive: true });
    fs.chownSync(upper, UID_BASE, UID_BASE);
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${this.rootfs},upperdir=${upper},workdir=${workdir}`, merged]);
    this.mounts.push(merged);
    return merged;
  }

  /** Create a cgroup and launch a sandbox into it. */
  async launch(opts: { rootfs?: string; limits?: Partial<CgroupLimits>; id?: string } = {}): Promise<TestSandbox> {
    const id = opts.id ?? newId();
    this.cg.create(id, { ...DEFAULT_LIMITS, ...opts.limits });
    this.ids.add(id);
    const cgroupProcs = this.cg.procsFiles(id);
    const init = await launchSandbox({
      id,
      rootfs: opts.rootfs ?? this.rootfs,
      guestDir: this.guestDir,
      uidBase: UID_BASE,
      uidCount: UID_COUNT,
      cgroupProcs,
    });
    return { id, cgroupProcs, ...init };
  }

  /** Run a bash script inside the sandbox and wait for it. */
  sh(sb: TestSandbox, script: string, opts: { seccomp?: boolean } = {}): Promise<RunResult> {
    return this.run(sb, ["/bin/bash", "-c", script], opts);
  }

  run(sb: TestSandbox, argv: string[], opts: { seccomp?: boolean } = {}): Promise<RunResult> {
    return runInSandbox(
      { initPid: sb.initPid, initStartTime: sb.initStartTime, cgroupProcs: sb.cgroupProcs, seccomp: opts.seccomp },
      argv,
      { timeoutMs: 60_000 },
    );
  }

  start(sb: TestSandbox, argv: string[], extra: { listenSocket?: string } = {}): Promise<{ pid: number }> {
    return startKernel({
      initPid: sb.initPid,
      initStartTime: sb.initStartTime,
      cgroupProcs: sb.cgroupProcs,
      argv,
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C.UTF-8" },
      cwd: "/root",
      seccomp: true,
      ...extra,
    });
  }

  /** Kill and remove one sandbox's cgroup (which ends the sandbox). */
  async destroy(id: string): Promise<void> {
    await this.cg.killAll(id);
    await this.cg.remove(id);
    this.ids.delete(id);
  }

  track(id: string): void {
    this.ids.add(id);
  }

  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const id of [...this.ids]) {
      try {
        await this.destroy(id);
      } catch (err) {
        errors.push(err);
      }
    }
    for (const dir of this.cg.dirs("x").map((d) => path.dirname(d))) {
      try {
        fs.rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") errors.push(err);
      }
    }
    for (const m of this.mounts.splice(0)) {
      try {
        execFileSync("umount", [m]);
      } catch (err) {
        errors.push(err);
      }
    }
    // Never delete through a mount that is still there.
    const stillMounted = fs.readFileSync("/proc/self/mountinfo", "utf8").includes(` ${this.work}/`);
    if (!stillMounted && this.work.startsWith(WORK_PREFIX)) fs.rmSync(this.work, { recursive: true, force: true });
    if (errors.length) throw new Error(`jail test cleanup: ${errors.map(String).join("; ")}`);
  }
}

/** Lines of a command's stdout, trimmed, empty ones dropped. */
export function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
