// The `ns` runtime: a sandbox is a writable snapshot of a template, a sandbox init holding a
// set of fresh namespaces (jail/), a cgroup, and a guest kernel started inside by `enter`.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PodflareError } from "@podflare/protocol";
import { CgroupManager, isAlive, launchSandbox, startKernel } from "../../jail/index.js";
import { forkKernel } from "../../jail/fork.js";
import type { StoragePool } from "../../storage/index.js";
import { GuestConnection } from "../guest-connection.js";
import { reapZombies } from "../guest-reap.js";
import type { NetworkService } from "../../network/network-service.js";
import { compileGuestFor } from "./guest-bytecode.js";
import { stageGuest } from "./guest-stage.js";
import type { ForkResult, Runtime, RuntimeHandle, RuntimeSandbox, RuntimeSandboxSpec, SandboxNetwork } from "../types.js";

/** The family init only reaps: a small cgroup of its own, so closing one sandbox never kills it. */
const FAMILY_LIMITS = { memoryMb: 64, vcpus: 0.1, pidsMax: 16 };
const FAMILY_PREFIX = "fam_";

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
  // The sandbox is the user's own throwaway box: `pip install x` installs, as Podflare's
  // documented programs expect, instead of Debian's PEP 668 refusal (externally-managed).
  PIP_BREAK_SYSTEM_PACKAGES: "1",
};

/**
 * Environment for the guest kernel alone: glibc's malloc asks for transparent huge pages
 * (madvise) for its heap and large blocks, so fork copies one entry per 2 MB instead of 512
 * (a 500 MB heap: 14 ms -> 0.5 ms in os.fork; docs/fork.md). The kernel drops the names listed
 * in PODFLARE_KERNEL_ONLY_ENV from its environment at start, so user code and its
 * subprocesses see only what the user set. A user's own GLIBC_TUNABLES wins and stays.
 */
function kernelEnv(userEnv: Record<string, string> | undefined): Record<string, string> {
  if (userEnv && "GLIBC_TUNABLES" in userEnv) return {};
  return { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", PODFLARE_KERNEL_ONLY_ENV: "GLIBC_TUNABLES" };
}

export interface NsRuntimeOptions {
  stateDir: string;
  storage: StoragePool;
  cgroups: CgroupManager;
  uidBase: number;
  uidCount: number;
  /** Sandbox networking; null: every sandbox has loopback only. */
  network: NetworkService | null;
  log: (msg: string) => void;
}

export class NsRuntime implements Runtime {
  readonly kind = "ns";
  private readonly runDir: string;
  /** Family id -> ids of its live sandboxes; the family goes with its last member. */
  private readonly families = new Map<string, Set<string>>();
  /** Background reclaims of closed sandboxes (see releaseLater). */
  private readonly releasing = new Set<Promise<void>>();

  /** The guest package as sandboxes mount it: a copy in the pool (guest-stage.ts). */
  private readonly guestDir: string;

  constructor(private readonly opts: NsRuntimeOptions) {
    this.runDir = path.join(opts.stateDir, "run");
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    this.guestDir = stageGuest(guestDir, opts.storage.root);
  }

  async create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox> {
    const { storage, cgroups } = this.opts;
    let rootfs: string | null = null;
    const familyId = `${FAMILY_PREFIX}${crypto.randomBytes(8).toString("hex")}`;
    let diskLimit: Promise<unknown> = Promise.resolve();
    try {
      rootfs = spec.fromSpace
        ? await storage.createSandboxRootFromSpace(spec.fromSpace, spec.id)
        : await storage.createSandboxRoot(spec.template, spec.id);
      // The disk cap is set while the sandbox starts: nothing writes to it before it is ready.
      if (spec.limits.diskMb > 0) diskLimit = storage.setDiskLimitMb(spec.id, spec.limits.diskMb);
      diskLimit.catch(() => undefined);
      this.opts.network?.writeResolvConf(rootfs, this.opts.uidBase);
      cgroups.create(spec.id, { memoryMb: spec.limits.memoryMb, vcpus: spec.limits.vcpus, pidsMax: spec.limits.pidsMax });
      if (spec.background) cgroups.setCpuPriority(spec.id, "background");
      cgroups.create(familyId, FAMILY_LIMITS);
      const init = await launchSandbox({
        id: spec.id,
        rootfs,
        guestDir: this.guestDir,
        uidBase: this.opts.uidBase,
        uidCount: this.opts.uidCount,
        hostname: spec.id,
        cgroupProcs: cgroups.procsFiles(spec.id),
        familyCgroupProcs: cgroups.procsFiles(familyId),
      });
      const handle: RuntimeHandle = {
        initPid: init.initPid,
        initStartTime: init.initStartTime,
        family: { id: familyId, pid: init.familyPid, startTime: init.familyStartTime },
      };
      const sb = new NsSandbox(spec, handle, this);
      this.join(familyId, spec.id);
      // The link comes up while the kernel starts: neither waits for the other.
      await Promise.all([sb.control(), this.attachNetwork(spec, { pid: init.initPid, startTime: init.initStartTime }), diskLimit]);
      return sb;
    } catch (err) {
      await diskLimit.catch(() => undefined); // not racing the root's removal
      await this.destroyById(spec.id).catch((e) => this.opts.log(`cleanup of ${spec.id} failed: ${String(e)}`));
      await this.leave(familyId, spec.id).catch((e) => this.opts.log(`cleanup of ${familyId} failed: ${String(e)}`));
      throw err;
    }
  }

  /** Compiles the guest kernel for each template's Python (a best effort: without it kernels compile at every start). */
  async prepare(templates: string[]): Promise<void> {
    for (const template of templates) {
      try {
        // Once into the template, so that creates find it right and write nothing to their roots.
        this.opts.network?.writeResolvConf(this.opts.storage.templatePath(template), this.opts.uidBase);
      } catch (err) {
        this.opts.log(`could not write resolv.conf into template ${template}: ${(err as Error).message}`);
      }
      try {
        const { tag, modules } = await compileGuestFor(template, {
          guestDir: this.guestDir,
          storage: this.opts.storage,
          cgroups: this.opts.cgroups,
          uidBase: this.opts.uidBase,
          uidCount: this.opts.uidCount,
          newId: () => `sbx_${crypto.randomBytes(16).toString("hex")}`,
        });
        this.opts.log(`guest kernel compiled for template ${template} (${tag}, ${modules} modules)`);
      } catch (err) {
        this.opts.log(`could not compile the guest kernel for template ${template}: ${(err as Error).message}`);
      }
    }
  }

  async fork(parent: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<ForkResult> {
    const { storage, cgroups } = this.opts;
    if (!(parent instanceof NsSandbox)) throw new Error("fork: not a sandbox of this runtime");
    const family = parent.handle.family;
    if (!family) {
      throw new PodflareError("conflict", `sandbox ${parent.id} was created before fork existed on this host; create a new sandbox to fork it`);
    }
    // The kernel must be up (a dead one is restarted) before its state is copied.
    await parent.control();
    const made: string[] = [];
    try {
      // Frozen, the parent's files are consistent across every snapshot. A btrfs snapshot
      // writes out the source's dirty data itself, and the dir driver reads the page
      // cache, so no syncfs is needed for the copies to see everything written.
      await cgroups.freeze(parent.id);
      try {
        made.push(...specs.map((spec) => spec.id));
        await storage.snapshotSandboxRoots(parent.id, specs.map((spec) => spec.id));
      } finally {
        await cgroups.thaw(parent.id);
      }
      return await this.startChildren(parent, specs, null);
    } catch (err) {
      for (const id of made) {
        await this.destroyById(id).catch((e) => this.opts.log(`cleanup of fork child ${id} failed: ${String(e)}`));
        this.families.get(family.id)?.delete(id);
        if (parent.handle.outerFamily) this.families.get(parent.handle.outerFamily.id)?.delete(id);
      }
      throw err;
    }
  }

  async spawn(zygote: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<RuntimeSandbox[]> {
    if (!(zygote instanceof NsSandbox) || !zygote.handle.family) throw new Error("spawn: the zygote is not a sandbox of this runtime");
    const outer = zygote.handle.family;
    const template = specs[0]?.template;
    if (!template || specs.some((s) => s.template !== template || s.fromSpace)) throw new Error("spawn: every spec must be of one template");
    await zygote.control();
    const familyIds = specs.map(() => `${FAMILY_PREFIX}${crypto.randomBytes(8).toString("hex")}`);
    try {
      const roots = await this.opts.storage.createSandboxRoots(template, specs.map((s) => s.id));
      for (const root of roots) this.opts.network?.writeResolvConf(root, this.opts.uidBase);
      return (await this.startChildren(zygote, specs, familyIds)).children;
    } catch (err) {
      for (const [i, spec] of specs.entries()) {
        this.forget(familyIds[i]!, spec.id);
        await this.leave(outer.id, spec.id).catch((e) => this.opts.log(`cleanup of ${outer.id} failed: ${String(e)}`));
        await this.destroyById(spec.id).catch((e) => this.opts.log(`cleanup of spawned ${spec.id} failed: ${String(e)}`));
        await this.destroyById(familyIds[i]!).catch((e) => this.opts.log(`cleanup of ${familyIds[i]} failed: ${String(e)}`));
      }
      throw err;
    }
  }

  /**
   * What fork and the warm pool's spawn share once the children's roots exist: their cgroups
   * and run dirs, the parent kernel's fork (disk caps set meanwhile), the sandboxes in their
   * families, their links and control connections. `freshFamilies`: spawn, one new family per
   * child (cgroup ids), nested in the parent's; null: fork, the children join the parent's.
   */
  private async startChildren(parent: NsSandbox, specs: RuntimeSandboxSpec[], freshFamilies: string[] | null): Promise<ForkResult & { children: NsSandbox[] }> {
    const { storage, cgroups } = this.opts;
    const family = parent.handle.family!;
    for (const [i, spec] of specs.entries()) {
      cgroups.create(spec.id, { memoryMb: spec.limits.memoryMb, vcpus: spec.limits.vcpus, pidsMax: spec.limits.pidsMax });
      if (spec.background) cgroups.setCpuPriority(spec.id, "background");
      if (freshFamilies) cgroups.create(freshFamilies[i]!, FAMILY_LIMITS);
      fs.mkdirSync(this.sandboxRunDir(spec.id), { recursive: true, mode: 0o700 });
    }
    // Disk caps are set while the kernel forks: a child writes nothing before it is ready.
    const diskLimits = setDiskLimits(storage, specs);
    diskLimits.catch(() => undefined);
    const forked = forkKernel({
      family: { pid: family.pid, startTime: family.startTime },
      uidBase: this.opts.uidBase,
      uidCount: this.opts.uidCount,
      guestDir: this.guestDir,
      parent: {
        initPid: parent.handle.initPid,
        initStartTime: parent.handle.initStartTime,
        socket: parent.socketPath,
        cgroupProcs: cgroups.procsFiles(parent.id),
      },
      children: specs.map((spec, i) => ({
        id: spec.id,
        rootfs: storage.sandboxRootPath(spec.id),
        socket: path.join(this.sandboxRunDir(spec.id), "kernel.sock"),
        cgroupProcs: cgroups.procsFiles(spec.id),
        ...(freshFamilies ? { familyCgroupProcs: cgroups.procsFiles(freshFamilies[i]!) } : {}),
      })),
      fresh: freshFamilies !== null,
    });
    const [out] = await Promise.all([forked, diskLimits]);
    const children = specs.map((spec, i) => {
      const c = out.children[i]!;
      if (freshFamilies && !c.family) throw new Error("spawn: the helper did not name the new family");
      // A fork child is in its parent's family (and under the same zygote family, if any); a
      // spawned one has its own, under the zygote's.
      const own = freshFamilies ? { id: freshFamilies[i]!, ...c.family! } : family;
      const outerFamily = freshFamilies ? family : parent.handle.outerFamily;
      const handle: RuntimeHandle = { initPid: c.initPid, initStartTime: c.initStartTime, family: own, ...(outerFamily ? { outerFamily } : {}) };
      this.join(own.id, spec.id);
      if (outerFamily) this.join(outerFamily.id, spec.id);
      return new NsSandbox(spec, handle, this, c.kernelPid);
    });
    const links = this.opts.network
      ? children.flatMap((c, i) => {
        const net = specs[i]!.network;
        return net?.egress ? [{ key: c.id, init: { pid: c.handle.initPid, startTime: c.handle.initStartTime }, policy: net.policy }] : [];
      })
      : [];
    await Promise.all([...children.map((c) => c.control()), links.length ? this.opts.network!.attachMany(links) : null]);
    return { children, landlock: out.landlock };
  }

  async adopt(spec: RuntimeSandboxSpec, handle: RuntimeHandle, opts: { paused?: boolean } = {}): Promise<RuntimeSandbox | null> {
    if (!isAlive(handle.initPid, handle.initStartTime)) return null;
    if (handle.family && !isAlive(handle.family.pid, handle.family.startTime)) return null;
    const sb = new NsSandbox(spec, handle, this);
    if (handle.family) this.join(handle.family.id, spec.id);
    // The zygote family holds this sandbox's family's pid namespace: kept while it lives.
    if (handle.outerFamily) this.join(handle.outerFamily.id, spec.id);
    // A frozen kernel cannot say hello (and a new one would hang in the frozen cgroup).
    if (!opts.paused) await sb.control();
    if (spec.network?.egress && this.opts.network) await this.opts.network.restore(spec.id, { pid: handle.initPid, startTime: handle.initStartTime }, spec.network.policy);
    return sb;
  }

  private async attachNetwork(spec: RuntimeSandboxSpec, init: { pid: number; startTime: string }): Promise<void> {
    if (spec.network?.egress && this.opts.network) await this.opts.network.attach(spec.id, init, spec.network.policy);
  }

  async setNetwork(sb: RuntimeSandbox, network: SandboxNetwork): Promise<void> {
    const net = this.opts.network;
    if (!net) return;
    const attached = net.addressOf(sb.id) !== null;
    if (!network.egress) {
      if (attached) await net.detach(sb.id);
    } else if (!attached) {
      await net.attach(sb.id, { pid: sb.handle.initPid, startTime: sb.handle.initStartTime }, network.policy);
    } else {
      await net.setPolicy(sb.id, network.policy);
    }
  }

  async checkNetwork(sb: RuntimeSandbox): Promise<void> {
    if (this.opts.network?.addressOf(sb.id)) await this.opts.network.checkDrift([sb.id]);
  }

  addressOf(sb: RuntimeSandbox): string | null {
    return this.opts.network?.addressOf(sb.id) ?? null;
  }

  async reconcile(keep: Set<string>): Promise<string[]> {
    const { storage, cgroups } = this.opts;
    const stale = new Set<string>();
    for (const id of cgroups.listIds()) {
      if (id.startsWith(FAMILY_PREFIX)) {
        // Killing a family init ends its whole pid namespace: only families with no live member.
        if (!this.families.has(id)) stale.add(id);
      } else if (!keep.has(id)) stale.add(id);
    }
    for (const id of await storage.listSandboxRoots()) if (!keep.has(id)) stale.add(id);
    for (const id of fs.readdirSync(this.runDir)) if (!keep.has(id)) stale.add(id);
    for (const id of stale) await this.destroyById(id);
    if (this.opts.network) for (const key of await this.opts.network.reconcile(keep)) stale.add(key);
    return [...stale];
  }

  private join(familyId: string, id: string): void {
    let members = this.families.get(familyId);
    if (!members) this.families.set(familyId, (members = new Set()));
    members.add(id);
  }

  isLastOf(familyId: string, id: string): boolean {
    const members = this.families.get(familyId);
    return members !== undefined && members.size === 1 && members.has(id);
  }

  /** Forgets a member; with the last one gone, the family init and its cgroup go too. */
  async leave(familyId: string, id: string): Promise<void> {
    if (this.forget(familyId, id)) await this.removeFamily(familyId);
  }

  /** Drops a member from its family; true when it was the last one. */
  private forget(familyId: string, id: string): boolean {
    const members = this.families.get(familyId);
    members?.delete(id);
    if (members && members.size > 0) return false;
    this.families.delete(familyId);
    return true;
  }

  private async removeFamily(familyId: string): Promise<void> {
    await this.opts.cgroups.killAll(familyId);
    await this.opts.cgroups.remove(familyId);
  }

  /**
   * Reclaims what a killed sandbox holds (cgroup, link, root, run dir; its family's when it was
   * the last member) without making anyone wait. The family membership changes at once, so
   * the next close in the family sees the right "last member".
   */
  releaseLater(id: string, familyId?: string, outerFamilyId?: string): void {
    const lastOfFamily = familyId !== undefined && this.forget(familyId, id);
    // A spawned sandbox's zygote family goes once neither the zygote nor any of them is left.
    const lastOfOuter = outerFamilyId !== undefined && this.forget(outerFamilyId, id);
    const work = (async () => {
      await this.release(id);
      if (lastOfFamily) await this.removeFamily(familyId);
      if (lastOfOuter) await this.removeFamily(outerFamilyId);
    })()
      .catch((err) => this.opts.log(`cleanup of closed sandbox ${id} failed (reconciled at the next start): ${String(err)}`))
      .finally(() => this.releasing.delete(work));
    this.releasing.add(work);
  }

  async settle(): Promise<void> {
    while (this.releasing.size > 0) await Promise.all([...this.releasing]);
  }

  async destroyById(id: string): Promise<void> {
    await this.opts.cgroups.killAll(id);
    if (id.startsWith(FAMILY_PREFIX)) {
      await this.opts.cgroups.remove(id);
      return;
    }
    await this.release(id);
  }

  /** Removes a sandbox whose processes are all gone. */
  private async release(id: string): Promise<void> {
    const { storage, cgroups } = this.opts;
    // Nothing runs any more: the rest is independent, so it goes side by side.
    await Promise.all([
      cgroups.remove(id),
      this.opts.network?.detach(id),
      storage.deleteSandboxRoot(id),
      fs.promises.rm(this.sandboxRunDir(id), { recursive: true, force: true }),
    ]);
  }

  sandboxRunDir(id: string): string {
    return path.join(this.runDir, id);
  }

  async saveSpace(sb: RuntimeSandbox, spaceId: string): Promise<void> {
    await this.opts.storage.saveSpaceRoot(sb.id, spaceId);
  }

  deleteSpace(spaceId: string): Promise<void> {
    return this.opts.storage.deleteSpaceRoot(spaceId);
  }

  listSpaces(): Promise<string[]> {
    return this.opts.storage.listSpaceRoots();
  }

  diskUsageBytes(sb: RuntimeSandbox): Promise<number> {
    return this.opts.storage.diskUsageBytes(sb.id);
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
  readonly socketPath: string;

  constructor(
    private readonly spec: RuntimeSandboxSpec,
    readonly handle: RuntimeHandle,
    private readonly rt: NsRuntime,
    kernelPid: number | null = null,
  ) {
    this.id = spec.id;
    this.kernelPid = kernelPid;
    const dir = rt.sandboxRunDir(spec.id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.socketPath = path.join(dir, "kernel.sock");
  }

  control(): Promise<GuestConnection> {
    if (this.destroyed) return Promise.reject(new Error(`sandbox ${this.id} is closed`));
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
    await this.control();
    const hits = this.limitHits();
    try {
      return await GuestConnection.connect(this.socketPath, 10_000);
    } catch (err) {
      // The kernel's spare connection threads are all busy and no new one can start.
      throw this.atProcessLimit(hits, "no connection to its guest kernel can be served") ?? err;
    }
  }

  async killProcesses(): Promise<number> {
    const keep = new Set([this.handle.initPid, this.handle.family?.pid, this.handle.outerFamily?.pid, this.kernelPid]);
    const killed = await this.rt.cgroups.killAllBut(this.id, new Set([...keep].filter((p): p is number => typeof p === "number")));
    // Killed children of the kernel itself stay zombies (holding pids) until it waits for them.
    if (this.conn && !this.conn.closed) {
      await reapZombies(this.conn, 5_000).catch((err: unknown) => this.rt.log(`kill_processes in ${this.id}: ${String(err)}`));
    }
    return killed;
  }

  async restartRepl(): Promise<void> {
    const old = this.kernelPid;
    this.killKernel();
    // The old kernel's socket answers until it is gone: wait, so control() starts a new one.
    const deadline = Date.now() + 5_000;
    while (old !== null && this.rt.cgroups.pids(this.id).includes(old)) {
      if (Date.now() > deadline) throw new Error(`the guest kernel of ${this.id} did not exit after SIGKILL`);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.kernelPid = null;
    fs.rmSync(this.socketPath, { force: true });
    await this.control();
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
    // Read when an exec ends, which may be after a close removed the group (then 0, not ENOENT).
    return this.rt.cgroups.oomKillCount(this.id);
  }

  detach(): void {
    this.destroyed = true;
    this.conn?.close();
  }

  pause(): Promise<void> {
    return this.rt.cgroups.freeze(this.id);
  }

  resume(): Promise<void> {
    return this.rt.cgroups.thaw(this.id);
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
      argv: ["/usr/bin/python3", "-c", KERNEL_BOOTSTRAP],
      env: { ...baseEnv, HOSTNAME: this.id, ...kernelEnv(this.spec.env), ...this.spec.env },
      cwd: "/root",
      listenSocket: this.socketPath,
      seccomp: true,
    });
    this.kernelPid = pid;
    return this.attach(await GuestConnection.connect(this.socketPath, 15_000));
  }

  private attach(conn: GuestConnection): GuestConnection {
    this.conn = conn;
    // A spawned sandbox's kernel is one pid namespace deeper (its family is nested in the zygote's).
    if (this.kernelPid === null) this.kernelPid = hostPidOf(this.rt.cgroups.pids(this.id), conn.hello.pid, this.handle.outerFamily ? 3 : 2);
    conn.onClose(() => {
      if (this.conn === conn) this.conn = null;
    });
    return conn;
  }
}

/** Disk caps for many new roots: one helper call per distinct cap (fork and spawn give all one). */
async function setDiskLimits(storage: StoragePool, specs: RuntimeSandboxSpec[]): Promise<void> {
  const byCap = new Map<number, string[]>();
  for (const spec of specs) if (spec.limits.diskMb > 0) byCap.set(spec.limits.diskMb, [...(byCap.get(spec.limits.diskMb) ?? []), spec.id]);
  await Promise.all([...byCap].map(([mb, ids]) => storage.setDiskLimitsMb(ids, mb)));
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
