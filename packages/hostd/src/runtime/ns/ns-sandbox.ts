// One sandbox of the `ns` runtime: its guest kernel (started, reused after a hostd restart,
// restarted), its processes (killed from the host side), and its close.
import fs from "node:fs";
import path from "node:path";
import { PodflareError } from "@podflare/protocol";
import { isAlive, processStartTime, startKernel, type CgroupManager } from "../../jail/index.js";
import { GuestConnection } from "../guest-connection.js";
import { reapZombies } from "../guest-reap.js";
import { KERNEL_ARGV, kernelEnv } from "./kernel-env.js";
import type { RuntimeHandle, RuntimeSandbox, RuntimeSandboxSpec } from "../types.js";

/** What a sandbox needs from its runtime (NsRuntime). */
export interface SandboxHost {
  readonly cgroups: CgroupManager;
  readonly log: (msg: string) => void;
  sandboxRunDir(id: string): string;
  isLastOf(familyId: string, id: string): boolean;
  releaseLater(id: string, familyId?: string, outerFamilyId?: string): void;
}

/** Connects retried when the kernel was replaced under them (each waits for the restart). */
const RECONNECTS_AFTER_RESTART = 8;

export class NsSandbox implements RuntimeSandbox {
  readonly id: string;
  private conn: GuestConnection | null = null;
  private starting: Promise<GuestConnection> | null = null;
  outputMeter: ((bytes: number) => number) | undefined;
  /** A restartRepl under way: control() waits for its kernel instead of starting a second one. */
  private restarting: Promise<void> | null = null;
  /** Kernels replaced so far: a connection attempt that raced a restart is tried again. */
  private restarts = 0;
  private kernelPid: number | null = null;
  /**
   * The kernel's start time, read when its pid was learnt: a kernel that exited by itself leaves
   * kernelPid behind, and the host may give that pid to any process since (another tenant's, or
   * hostd's own). Nothing is signalled by pid without this and the sandbox's cgroup agreeing.
   */
  private kernelStart: string | null = null;
  private destroyed = false;
  readonly socketPath: string;

  get closed(): boolean {
    return this.destroyed;
  }

  constructor(
    private readonly spec: RuntimeSandboxSpec,
    readonly handle: RuntimeHandle,
    private readonly rt: SandboxHost,
    kernelPid: number | null = null,
  ) {
    this.id = spec.id;
    this.setKernelPid(kernelPid);
    const dir = rt.sandboxRunDir(spec.id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.socketPath = path.join(dir, "kernel.sock");
  }

  control(): Promise<GuestConnection> {
    if (this.destroyed) return Promise.reject(new Error(`sandbox ${this.id} is closed`));
    if (this.restarting) return this.restarting.then(() => this.control());
    return this.connectKernel();
  }

  private connectKernel(): Promise<GuestConnection> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    const hits = this.limitHits();
    this.starting ??= this.connectOrStart()
      .catch((err: unknown) => {
        throw this.atProcessLimit(hits, "the guest kernel cannot be restarted") ?? err;
      })
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  async openConnection(): Promise<GuestConnection> {
    for (let attempt = 0; ; attempt++) {
      // Read before control(): a restart that begins while control() or the connect is under
      // way (and may be over by the time the connect fails) still counts.
      const restarts = this.restarts;
      await this.control();
      const hits = this.limitHits();
      try {
        return this.metered(await GuestConnection.connect(this.socketPath, 10_000));
      } catch (err) {
        // The kernel was replaced between control() and the connect (its socket went with it):
        // again, for each restart that came meanwhile (two restart_repl calls in a row failed
        // the second try; CI run of 2026-12-07), a few times at most.
        // Or its socket is not there at all, no restart known: a kernel not yet listening (seen
        // once, restart_repl racing pause and kill_processes; CI run 24 of 2026-12-07). A moment
        // later control() finds it, or starts one; a socket sandbox code removed fails as before.
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        if (attempt < RECONNECTS_AFTER_RESTART && !this.destroyed && (this.restarting || this.restarts !== restarts || missing)) {
          if (missing) await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
          continue;
        }
        // The kernel's spare connection threads are all busy and no new one can start.
        throw this.atProcessLimit(hits, "no connection to its guest kernel can be served") ?? this.unreachable(err);
      }
    }
  }

  async killProcesses(): Promise<number> {
    // A kernel being started or replaced is not known yet: its start would be killed with the
    // rest (an exec racing kill_processes then failed with "enter: exit 137").
    await this.restarting?.catch(() => undefined);
    await this.starting?.catch(() => undefined);
    const keep = new Set([this.handle.initPid, this.handle.family?.pid, this.handle.outerFamily?.pid, this.kernelPid]);
    const killed = await this.rt.cgroups.killAllBut(this.id, new Set([...keep].filter((p): p is number => typeof p === "number")));
    // Killed children of the kernel itself stay zombies (holding pids) until it waits for them.
    if (this.conn && !this.conn.closed) {
      await reapZombies(this.conn, 5_000).catch((err: unknown) => this.rt.log(`kill_processes in ${this.id}: ${String(err)}`));
    }
    return killed;
  }

  restartRepl(): Promise<void> {
    this.restarts++;
    this.restarting ??= this.replaceKernel().finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  private async replaceKernel(): Promise<void> {
    // A kernel being started (after an exec's kill) is the one to replace: wait until it is up.
    await this.starting?.catch(() => undefined);
    const old = this.kernelIsAlive() ? this.kernelPid : null;
    this.killKernel();
    // The old kernel's socket answers until it is gone: wait, so control() starts a new one.
    const deadline = Date.now() + 5_000;
    while (old !== null && this.rt.cgroups.pids(this.id).includes(old)) {
      if (Date.now() > deadline) throw new Error(`the guest kernel of ${this.id} did not exit after SIGKILL`);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.setKernelPid(null);
    fs.rmSync(this.socketPath, { force: true });
    if (this.destroyed) throw new Error(`sandbox ${this.id} is closed`);
    await this.connectKernel();
  }

  /**
   * The sandbox's own guest kernel did not take a connection (its code may have closed or
   * replaced the kernel's socket, or wedged it): the sandbox's failure, not hostd's, and
   * restart_repl is the way out. (Answered 500 "internal … report it" before.)
   */
  private unreachable(err: unknown): unknown {
    if (err instanceof PodflareError) return err;
    // Not the error's own text: it names the socket's host path.
    this.rt.log(`sandbox ${this.id}: no connection to its guest kernel: ${(err as Error).message}`);
    return new PodflareError(
      "runtime_error",
      `the guest kernel of sandbox ${this.id} did not take a connection; ` +
        `code in the sandbox may have closed or taken over its socket. POST /v1/sandboxes/${this.id}/restart_repl (SDK: restartRepl / restart_repl) starts a new one`,
    );
  }

  /** Failures of fork/clone in the sandbox so far (0 when its cgroup cannot be read). */
  private limitHits(): number {
    try {
      return this.rt.cgroups.pidsLimitHits(this.id);
    } catch {
      return 0;
    }
  }

  /** The error to answer when a failure came from the sandbox's pids limit, else null. */
  private atProcessLimit(hitsBefore: number, what: string): PodflareError | null {
    let atLimit = false;
    try {
      const { cgroups } = this.rt;
      atLimit = cgroups.pidsLimitHits(this.id) > hitsBefore || cgroups.pidsCurrent(this.id) >= cgroups.pidsMax(this.id);
    } catch {
      return null;
    }
    if (!atLimit) return null;
    return new PodflareError(
      "sandbox_at_process_limit",
      `sandbox ${this.id} is at its process limit (pids), so ${what}; ` +
        `end its processes with POST /v1/sandboxes/${this.id}/kill_processes (SDK: killProcesses / kill_processes) and try again`,
    );
  }

  foreground(): void {
    this.rt.cgroups.setCpuPriority(this.id, "normal");
  }

  setCpuWeight(weight: number): void {
    try {
      this.rt.cgroups.setCpuWeight(this.id, weight);
    } catch {
      // Its group is gone (closed meanwhile): nothing to weigh.
    }
  }

  killKernel(): void {
    if (this.kernelIsAlive()) {
      try {
        process.kill(this.kernelPid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    this.conn?.close();
  }

  private setKernelPid(pid: number | null): void {
    this.kernelPid = pid;
    this.kernelStart = pid === null ? null : processStartTime(pid);
  }

  /** The kernel whose pid we hold still runs, as that very process, in this sandbox's cgroup. */
  private kernelIsAlive(): boolean {
    const pid = this.kernelPid;
    if (pid === null || this.kernelStart === null || !isAlive(pid, this.kernelStart)) return false;
    try {
      return this.rt.cgroups.pids(this.id).includes(pid);
    } catch {
      return false;
    }
  }

  oomKills(): number {
    // Read when an exec ends, which may be after a close removed the group (then 0, not ENOENT).
    return this.rt.cgroups.oomKillCount(this.id);
  }

  detach(): void {
    this.destroyed = true;
    this.conn?.close();
  }

  paused = false;

  pause(): Promise<void> {
    this.paused = true;
    return this.rt.cgroups.freeze(this.id);
  }

  async resume(): Promise<void> {
    await this.rt.cgroups.thaw(this.id);
    this.paused = false;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.conn?.close();
    // The family's last member: killing its init (pid 1 of the family pid namespace) ends
    // every process in it at once, so the cgroups empty without a freeze-kill-thaw round.
    const family = this.handle.family;
    if (family && this.rt.isLastOf(family.id, this.id) && isAlive(family.pid, family.startTime)) {
      try {
        process.kill(family.pid, "SIGKILL");
        await this.rt.cgroups.waitEmpty(this.id, 200);
      } catch {
        /* gone meanwhile */
      }
    }
    await this.rt.cgroups.killAll(this.id);
    // Nothing of it runs any more: the close answers now, and its cgroup, link, root and run
    // dir are reclaimed in the background (~15 ms; hostd stop waits for them, and a crash
    // meanwhile leaves what reconcile removes at the next start).
    this.rt.releaseLater(this.id, this.handle.family?.id, this.handle.outerFamily?.id);
  }

  /** Reuses a kernel that survived a hostd restart; otherwise starts a fresh one. */
  private async connectOrStart(): Promise<GuestConnection> {
    if (fs.existsSync(this.socketPath)) {
      try {
        return this.attach(await GuestConnection.connect(this.socketPath, 2_000));
      } catch {
        /* stale socket: start a new kernel below */
      }
    }
    const { pid } = await startKernel({
      initPid: this.handle.initPid,
      initStartTime: this.handle.initStartTime,
      cgroupProcs: this.rt.cgroups.procsFiles(this.id),
      argv: KERNEL_ARGV,
      env: kernelEnv(this.id, this.spec.env),
      cwd: "/root",
      listenSocket: this.socketPath,
      seccomp: true,
    });
    this.setKernelPid(pid);
    return this.attach(await GuestConnection.connect(this.socketPath, 15_000));
  }

  /** The owner's output pace (outputMeter, set for its owner once it is live) on what hostd reads. */
  private metered(conn: GuestConnection): GuestConnection {
    conn.meter = (bytes) => this.outputMeter?.(bytes) ?? 0;
    return conn;
  }

  private attach(conn: GuestConnection): GuestConnection {
    this.conn = this.metered(conn);
    // A spawned sandbox's kernel is one pid namespace deeper (its family is nested in the zygote's).
    if (this.kernelPid === null) this.setKernelPid(hostPidOf(this.rt.cgroups.pids(this.id), conn.hello.pid, this.handle.outerFamily ? 3 : 2));
    conn.onClose(() => {
      if (this.conn === conn) this.conn = null;
    });
    return conn;
  }
}

/** Finds the host pid of a process known by its pid inside the sandbox (the last NSpid field). */
function hostPidOf(candidates: number[], nsPid: number, levels: number): number | null {
  for (const pid of candidates) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      // [host pid, (zygote family,) pid in the sandbox]: exactly the kernel's depth, so a pid
      // namespace made inside the sandbox never matches.
      if (ns?.length === levels && Number(ns[levels - 1]) === nsPid) return pid;
    } catch {
      /* exited meanwhile */
    }
  }
  return null;
}
