// Fork and the warm pool's spawn in the `ns` runtime: new sandboxes started from a running
// one's kernel (jail/fork.ts), either in its family (fork) or each in a family of its own
// nested in the zygote's (spawn; docs/security.md, "Warm pool spawn").
import fs from "node:fs";
import path from "node:path";
import { PodflareError } from "@podflare/protocol";
import { forkKernel } from "../../jail/fork.js";
import type { DiskGroup, StoragePool } from "../../storage/index.js";
import { FAMILY_LIMITS, newFamilyId } from "./families.js";
import { NsSandbox } from "./ns-sandbox.js";
import type { ForkHost } from "./ns-options.js";
import type { ForkResult, RuntimeHandle, RuntimeSandbox, RuntimeSandboxSpec } from "../types.js";

export async function forkSandbox(rt: ForkHost, parent: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<ForkResult> {
  const { storage, cgroups } = rt.opts;
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
    // The children's setups raise the family's ceilings to its new size (kernel-counters.ts)
    // before they make their namespaces; other forks into it under way count too.
    const members = rt.families.expect(family.id, specs.length);
    try {
      return await startChildren(rt, parent, specs, null, members);
    } finally {
      rt.families.arrived(family.id, specs.length);
    }
  } catch (err) {
    for (const id of made) {
      await rt.destroyById(id).catch((e) => rt.log(`cleanup of fork child ${id} failed: ${String(e)}`));
      rt.families.drop(family.id, id);
      if (parent.handle.outerFamily) rt.families.drop(parent.handle.outerFamily.id, id);
    }
    throw err;
  }
}

export async function spawnSandboxes(rt: ForkHost, zygote: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<RuntimeSandbox[]> {
  if (!(zygote instanceof NsSandbox) || !zygote.handle.family) throw new Error("spawn: the zygote is not a sandbox of this runtime");
  const outer = zygote.handle.family;
  const template = specs[0]?.template;
  if (!template || specs.some((s) => s.template !== template || s.fromSpace)) throw new Error("spawn: every spec must be of one template");
  await zygote.control();
  const familyIds = specs.map(() => newFamilyId());
  try {
    const roots = await rt.opts.storage.createSandboxRoots(template, specs.map((s) => s.id));
    for (const root of roots) rt.opts.network?.writeResolvConf(root, rt.opts.uidBase);
    return (await startChildren(rt, zygote, specs, familyIds, 1)).children;
  } catch (err) {
    for (const [i, spec] of specs.entries()) {
      rt.families.forget(familyIds[i]!, spec.id);
      await rt.leave(outer.id, spec.id).catch((e) => rt.log(`cleanup of ${outer.id} failed: ${String(e)}`));
      await rt.destroyById(spec.id).catch((e) => rt.log(`cleanup of spawned ${spec.id} failed: ${String(e)}`));
      await rt.destroyById(familyIds[i]!).catch((e) => rt.log(`cleanup of ${familyIds[i]} failed: ${String(e)}`));
    }
    throw err;
  }
}

/**
 * What fork and the warm pool's spawn share once the children's roots exist: their cgroups
 * and run dirs, the parent kernel's fork (disk caps set meanwhile), the sandboxes in their
 * families, their links and control connections. `freshFamilies`: spawn, one new family per
 * child (cgroup ids), nested in the parent's; null: fork, the children join the parent's.
 * `members`: the size of the children's family once they are in it (its ceilings).
 */
async function startChildren(rt: ForkHost, parent: NsSandbox, specs: RuntimeSandboxSpec[], freshFamilies: string[] | null, members: number): Promise<ForkResult & { children: NsSandbox[] }> {
  const { storage, cgroups, network } = rt.opts;
  const family = parent.handle.family!;
  for (const [i, spec] of specs.entries()) {
    cgroups.create(spec.id, { memoryMb: spec.limits.memoryMb, vcpus: spec.limits.vcpus, pidsMax: spec.limits.pidsMax });
    if (spec.background) cgroups.setCpuPriority(spec.id, "background");
    if (freshFamilies) cgroups.create(freshFamilies[i]!, FAMILY_LIMITS);
    fs.mkdirSync(rt.sandboxRunDir(spec.id), { recursive: true, mode: 0o700 });
  }
  // Disk caps are set while the kernel forks: a child writes nothing before it is ready.
  const diskLimits = setDiskLimits(storage, specs, rt.ownerDisk.groupOf(specs[0]?.owner));
  diskLimits.catch(() => undefined);
  const forked = forkKernel({
    family: { pid: family.pid, startTime: family.startTime },
    uidBase: rt.opts.uidBase,
    uidCount: rt.opts.uidCount,
    guestDir: rt.guestDir,
    parent: {
      initPid: parent.handle.initPid,
      initStartTime: parent.handle.initStartTime,
      socket: parent.socketPath,
      cgroupProcs: cgroups.procsFiles(parent.id),
    },
    children: specs.map((spec, i) => ({
      id: spec.id,
      rootfs: storage.sandboxRootPath(spec.id),
      socket: path.join(rt.sandboxRunDir(spec.id), "kernel.sock"),
      cgroupProcs: cgroups.procsFiles(spec.id),
      ...(freshFamilies ? { familyCgroupProcs: cgroups.procsFiles(freshFamilies[i]!) } : {}),
    })),
    fresh: freshFamilies !== null,
    familyLimits: rt.opts.familyLimits(members),
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
    rt.families.join(own.id, spec.id);
    if (outerFamily) rt.families.join(outerFamily.id, spec.id);
    return new NsSandbox(spec, handle, rt, c.kernelPid);
  });
  const links = network
    ? children.flatMap((c, i) => {
      const net = specs[i]!.network;
      return net?.egress ? [{ key: c.id, init: { pid: c.handle.initPid, startTime: c.handle.initStartTime }, policy: net.policy }] : [];
    })
    : [];
  await Promise.all([...children.map((c) => c.control()), links.length ? network!.attachMany(links) : null]);
  return { children, landlock: out.landlock };
}

/**
 * Disk caps for many new roots: one helper call per distinct cap (fork and spawn give all one),
 * and the owner's group (a fork's children all have their parent's owner; spawned ones none).
 */
async function setDiskLimits(storage: StoragePool, specs: RuntimeSandboxSpec[], group: DiskGroup | undefined): Promise<void> {
  const byCap = new Map<number, string[]>();
  const uncapped: string[] = [];
  for (const spec of specs) {
    if (spec.limits.diskMb > 0) byCap.set(spec.limits.diskMb, [...(byCap.get(spec.limits.diskMb) ?? []), spec.id]);
    else uncapped.push(spec.id);
  }
  await Promise.all([
    ...[...byCap].map(([mb, ids]) => storage.setDiskLimitsMb(ids, mb, group)),
    group && uncapped.length ? storage.joinDiskGroup(uncapped, group) : null,
  ]);
}
