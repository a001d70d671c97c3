// The `ns` runtime: a sandbox is a writable snapshot of a template, a sandbox init holding a
// set of fresh namespaces (jail/), a cgroup, and a guest kernel started inside by `enter`
// (ns-sandbox.ts). Fork and spawn: fork-spawn.ts; fork families: families.ts.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CgroupManager, isAlive, launchSandbox } from "../../jail/index.js";
import { Families, FAMILY_LIMITS, isFamilyId, newFamilyId } from "./families.js";
import { forkSandbox, spawnSandboxes } from "./fork-spawn.js";
import { compileGuestFor } from "./guest-bytecode.js";
import { stageGuest } from "./guest-stage.js";
import { NsSandbox } from "./ns-sandbox.js";
import type { NsRuntimeOptions } from "./ns-options.js";
import type { ForkResult, Runtime, RuntimeHandle, RuntimeSandbox, RuntimeSandboxSpec, SandboxNetwork } from "../types.js";

/** packages/guest, bind-mounted read-only at /.podflare/guest inside every sandbox. */
export const guestDir = fileURLToPath(new URL("../../../../guest", import.meta.url));

import type { PodflareError } from "@podflare/protocol";
import { PoolRoom } from "../../storage/pool-room.js";
import { OwnerDisk } from "./owner-disk.js";

export type { NsRuntimeOptions };

export class NsRuntime implements Runtime {
  readonly kind = "ns";
  private readonly runDir: string;
  /** Which sandboxes each fork family holds; a family goes with its last member. */
  readonly families = new Families();
  /** Background reclaims of closed sandboxes (see releaseLater). */
  private readonly releasing = new Set<Promise<void>>();

  /** The guest package as sandboxes mount it: a copy in the pool (guest-stage.ts). */
  readonly guestDir: string;
  readonly room: PoolRoom;
  readonly ownerDisk: OwnerDisk;

  constructor(readonly opts: NsRuntimeOptions) {
    this.room = new PoolRoom(opts.storage.root, opts.log);
    this.ownerDisk = new OwnerDisk(opts.storage, opts.ownerDiskPercent ?? 100);
    this.runDir = path.join(opts.stateDir, "run");
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    this.guestDir = stageGuest(guestDir, opts.storage.root);
  }

  async create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox> {
    const { storage, cgroups } = this.opts;
    let rootfs: string | null = null;
    const familyId = newFamilyId();
    let diskLimit: Promise<unknown> = Promise.resolve();
    try {
      rootfs = spec.fromSpace
        ? await storage.createSandboxRootFromSpace(spec.fromSpace, spec.id)
        : await storage.createSandboxRoot(spec.template, spec.id);
      // The disk cap is set while the sandbox starts: nothing writes to it before it is ready.
      const group = this.ownerDisk.groupOf(spec.owner);
      if (spec.limits.diskMb > 0) diskLimit = storage.setDiskLimitMb(spec.id, spec.limits.diskMb, group);
      else if (group) diskLimit = storage.joinDiskGroup([spec.id], group);
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
        ...(spec.zygote ? {} : { familyLimits: this.opts.familyLimits(1) }),
      });
      const handle: RuntimeHandle = {
        initPid: init.initPid,
        initStartTime: init.initStartTime,
        family: { id: familyId, pid: init.familyPid, startTime: init.familyStartTime },
      };
      const sb = new NsSandbox(spec, handle, this);
      this.families.join(familyId, spec.id);
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

  fork(parent: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<ForkResult> {
    return forkSandbox(this, parent, specs);
  }

  spawn(zygote: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<RuntimeSandbox[]> {
    return spawnSandboxes(this, zygote, specs);
  }

  async adopt(spec: RuntimeSandboxSpec, handle: RuntimeHandle, opts: { paused?: boolean } = {}): Promise<RuntimeSandbox | null> {
    if (!isAlive(handle.initPid, handle.initStartTime)) return null;
    if (handle.family && !isAlive(handle.family.pid, handle.family.startTime)) return null;
    const sb = new NsSandbox(spec, handle, this);
    if (handle.family) this.families.join(handle.family.id, spec.id);
    // The zygote family holds this sandbox's family's pid namespace: kept while it lives.
    if (handle.outerFamily) this.families.join(handle.outerFamily.id, spec.id);
    // Only a paused sandbox stays frozen across a restart. A crash in the middle of a fork (whose
    // parent is frozen while its roots are snapshot) or a Space freeze left it frozen: thawed
    // here, or its kernel could not say hello and the sandbox would be taken for dead.
    if (!opts.paused) {
      await this.opts.cgroups.thaw(spec.id);
      await sb.control();
    }
    if (spec.network?.egress && this.opts.network) await this.opts.network.restore(spec.id, { pid: handle.initPid, startTime: handle.initStartTime }, spec.network.policy);
    return sb;
  }

  private async attachNetwork(spec: RuntimeSandboxSpec, init: { pid: number; startTime: string }): Promise<void> {
    if (spec.network?.egress && this.opts.network) await this.opts.network.attach(spec.id, init, spec.network.policy);
  }

  async setNetwork(sb: RuntimeSandbox, network: SandboxNetwork): Promise<void> {
    await this.opts.network?.configure(sb.id, { pid: sb.handle.initPid, startTime: sb.handle.initStartTime }, network.egress, network.policy);
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
      if (isFamilyId(id)) {
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

  isLastOf(familyId: string, id: string): boolean {
    return this.families.isLastOf(familyId, id);
  }

  /** Forgets a member; with the last one gone, the family init and its cgroup go too. */
  async leave(familyId: string, id: string): Promise<void> {
    if (this.families.forget(familyId, id)) await this.removeFamily(familyId);
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
    const lastOfFamily = familyId !== undefined && this.families.forget(familyId, id);
    // A spawned sandbox's zygote family goes once neither the zygote nor any of them is left.
    const lastOfOuter = outerFamilyId !== undefined && this.families.forget(outerFamilyId, id);
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
    if (isFamilyId(id)) {
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

  markSpacePending(spaceId: string, pending: boolean): Promise<void> {
    return this.opts.storage.markSpacePending(spaceId, pending);
  }

  pendingSpaces(): Promise<string[]> {
    return this.opts.storage.pendingSpaces();
  }

  setAsideSpace(spaceId: string): Promise<string> {
    return this.opts.storage.setAsideSpaceRoot(spaceId);
  }

  async claimFor(sb: RuntimeSandbox, owner: string | undefined): Promise<void> {
    const group = this.ownerDisk.groupOf(owner);
    if (group) await this.opts.storage.joinDiskGroup([sb.id], group);
  }

  refuseNew(what: string, owner: string | undefined): PodflareError | undefined {
    return this.room.refuseNew(what) ?? this.ownerDisk.refuseNew(what, owner);
  }

  explainNoSpace(err: unknown, owner: string | undefined): unknown {
    const told = this.room.explain(err);
    return told === err ? this.ownerDisk.explain(err, owner) : told;
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
