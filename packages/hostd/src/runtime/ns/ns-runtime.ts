// The `ns` runtime: a sandbox is a writable snapshot of a template, a sandbox init holding a
// set of fresh namespaces (jail/), a cgroup, and a guest kernel started inside by `enter`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CgroupManager, isAlive, launchSandbox, startKernel } from "../../jail/index.js";
import type { StoragePool } from "../../storage/index.js";
import { GuestConnection } from "../guest-connection.js";
import type { Runtime, RuntimeHandle, RuntimeSandbox, RuntimeSandboxSpec } from "../types.js";

/** packages/guest, bind-mounted read-only at /.podflare/guest inside every sandbox. */
export const guestDir = fileURLToPath(new URL("../../../../guest", import.meta.url));

const KERNEL_BOOTSTRAP =
  "import sys; sys.path.insert(0, '/.podflare/guest'); from podflare_guest.main import main; del sys.path[0]; main()";

const baseEnv: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  TERM: "xterm",
  PYTHONUNBUFFERED: "1",
};

export interface NsRuntimeOptions {
  stateDir: string;
  storage: StoragePool;
  cgroups: CgroupManager;
  uidBase: number;
  uidCount: number;
  log: (msg: string) => void;
}

export class NsRuntime implements Runtime {
  readonly kind = "ns";
  private readonly runDir: string;

  constructor(private readonly opts: NsRuntimeOptions) {
    this.runDir = path.join(opts.stateDir, "run");
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
  }

  async create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox> {
    const { storage, cgroups } = this.opts;
    let rootfs: string | null = null;
    try {
      rootfs = await storage.createSandboxRoot(spec.template, spec.id);
      if (spec.limits.diskMb > 0) await storage.setDiskLimitMb(spec.id, spec.limits.diskMb);
      cgroups.create(spec.id, { memoryMb: spec.limits.memoryMb, vcpus: spec.limits.vcpus, pidsMax: spec.limits.pidsMax });
      const handle = await launchSandbox({
        id: spec.id,
        rootfs,
        guestDir,
        uidBase: this.opts.uidBase,
        uidCount: this.opts.uidCount,
        hostname: spec.id,
        cgroupProcs: cgroups.procsFiles(spec.id),
      });
      const sb = new NsSandbox(spec, handle, this);
      await sb.control();
      return sb;
    } catch (err) {
      await this.destroyById(spec.id).catch((e) => this.opts.log(`cleanup of ${spec.id} failed: ${String(e)}`));
      throw err;
    }
  }

  async adopt(spec: RuntimeSandboxSpec, handle: RuntimeHandle): Promise<RuntimeSandbox | null> {
    if (!isAlive(handle.initPid, handle.initStartTime)) return null;
    const sb = new NsSandbox(spec, handle, this);
    await sb.control();
    return sb;
  }

  async reconcile(keep: Set<string>): Promise<string[]> {
    const { storage, cgroups } = this.opts;
    const stale = new Set<string>();
    for (const id of cgroups.listIds()) if (!keep.has(id)) stale.add(id);
    for (const id of await storage.listSandboxRoots()) if (!keep.has(id)) stale.add(id);
    for (const id of fs.readdirSync(this.runDir)) if (!keep.has(id)) stale.add(id);
    for (const id of stale) await this.destroyById(id);
    return [...stale];
  }

  async destroyById(id: string): Promise<void> {
    const { storage, cgroups } = this.opts;
    await cgroups.killAll(id);
    await cgroups.remove(id);
    await storage.deleteSandboxRoot(id);
    fs.rmSync(this.sandboxRunDir(id), { recursive: true, force: true });
  }

  sandboxRunDir(id: string): string {
    return path.join(this.runDir, id);
  }

  get cgroups(): CgroupManager {
    return this.opts.cgroups;
  }

  get log(): (msg: string) => void {
    return this.opts.log;
  }
}

class NsSandbox implements RuntimeSandbox {
  readonly id: string;
  private conn: GuestConnection | null = null;
  private starting: Promise<GuestConnection> | null = null;
  private kernelPid: number | null = null;
  private destroyed = false;
  private readonly socketPath: string;

  constructor(
    private readonly spec: RuntimeSandboxSpec,
    readonly handle: RuntimeHandle,
    private readonly rt: NsRuntime,
  ) {
    this.id = spec.id;
    const dir = rt.sandboxRunDir(spec.id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.socketPath = path.join(dir, "kernel.sock");
  }

  control(): Promise<GuestConnection> {
    if (this.destroyed) return Promise.reject(new Error(`sandbox ${this.id} is closed`));
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    this.starting ??= this.connectOrStart().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async openConnection(): Promise<GuestConnection> {
    await this.control();
    return GuestConnection.connect(this.socketPath, 10_000);
  }

  killKernel(): void {
    if (this.kernelPid !== null) {
      try {
        process.kill(this.kernelPid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    this.conn?.close();
  }

  oomKills(): number {
    return this.rt.cgroups.oomKillCount(this.id);
  }

  detach(): void {
    this.destroyed = true;
    this.conn?.close();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.conn?.close();
    await this.rt.destroyById(this.id);
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
      argv: ["/usr/bin/python3", "-c", KERNEL_BOOTSTRAP],
      env: { ...baseEnv, HOSTNAME: this.id, ...this.spec.env },
      cwd: "/root",
      listenSocket: this.socketPath,
      seccomp: true,
    });
    this.kernelPid = pid;
    return this.attach(await GuestConnection.connect(this.socketPath, 15_000));
  }

  private attach(conn: GuestConnection): GuestConnection {
    this.conn = conn;
    if (this.kernelPid === null) this.kernelPid = hostPidOf(this.rt.cgroups.pids(this.id), conn.hello.pid);
    conn.onClose(() => {
      if (this.conn === conn) this.conn = null;
    });
    return conn;
  }
}

/** Finds the host pid of a process known by its pid inside the sandbox (the last NSpid field). */
function hostPidOf(candidates: number[], nsPid: number): number | null {
  for (const pid of candidates) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      // [host pid, pid in the sandbox]: exactly two levels, so a nested namespace never matches.
      if (ns?.length === 2 && Number(ns[1]) === nsPid) return pid;
    } catch {
      /* exited meanwhile */
    }
  }
  return null;
}
