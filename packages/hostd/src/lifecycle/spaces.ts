// Spaces: freeze a sandbox to disk (its REPL namespace and root filesystem) and resume it once,
// into a new sandbox, later — after a hostd restart or a host reboot too.
import { PodflareError, newTaggedId, type ResumeSpaceResponse, type SpaceInfo, type SpaceManifest } from "@podflare/protocol";
import { tiers, type TierName } from "../auth/tiers.js";
import { dropSpaceState, spaceOp } from "../runtime/space-ops.js";
import type { Runtime } from "../runtime/types.js";
import { clipId } from "../storage/index.js";
import type { SpaceRecord, SpaceTable } from "../store/store.js";
import type { SandboxManager } from "./sandbox-manager.js";
import { tenantOf } from "./live-sandboxes.js";
import { checkSpaceBytes, checkSpaceCount, spaceCapsFor, type HostSpaceCaps } from "./space-caps.js";

export type { SpaceInfo, ResumeSpaceResponse as ResumeResponse };

const toInfo = (s: SpaceRecord): SpaceInfo => ({
  space_id: s.id,
  source_id: s.sourceId,
  template: s.template,
  created_at: new Date(s.createdAt).toISOString(),
  reason: s.reason,
  manifest: s.manifest,
  bytes: s.bytes,
});

function notFound(id: string): PodflareError {
  return new PodflareError("space_not_found", `space ${clipId(id)} not found; it may have been resumed already (a Space resumes once) or deleted`);
}

/** The name a Space's manifest gives the REPL state it could not keep (it did not fit). */
const STATE_NOT_KEPT = "(the REPL's state)";

export class SpaceService {
  /** Freezes in flight per owner (Spaces and bytes), so racing freezes cannot pass the caps. */
  private readonly pending = new Map<string, { count: number; bytes: number }>();
  /** Spaces a resume is under way for: a second resume at once is 404 before it makes a sandbox. */
  private readonly resuming = new Set<string>();

  constructor(
    private readonly store: SpaceTable,
    private readonly runtime: Runtime,
    private readonly sandboxes: SandboxManager,
    private readonly log: (msg: string) => void,
    private readonly hostCaps: HostSpaceCaps = {},
    /** This hostd's region tag: Space ids start with it, like sandbox ids (docs/edge.md). */
    private readonly regionTag?: string,
  ) {}

  /** Freezes a sandbox into a Space and closes the sandbox. */
  /**
   * `keepFilesWithoutState`: when the REPL's state does not fit in the sandbox's own disk, the
   * Space keeps its files and says the state was lost, rather than the freeze failing (the
   * reaper: its only other way is to close the sandbox, losing the files too).
   */
  async freeze(owner: string, id: string, tierName: TierName, reason = "freeze", opts: { keepFilesWithoutState?: boolean } = {}): Promise<SpaceInfo> {
    if (!tiers[tierName].persistentSpaces) {
      throw new PodflareError("forbidden", `persistent Spaces are not part of the ${tierName} tier; use a pro key`);
    }
    const caps = spaceCapsFor(tierName, this.hostCaps);
    const pending = this.pending.get(owner) ?? { count: 0, bytes: 0 };
    this.pending.set(owner, pending);
    // Checked and counted in one step (no await between), like the concurrency cap.
    checkSpaceCount(this.store.list(owner).length + pending.count, caps, tierName);
    pending.count++;
    try {
      return await this.freezeCounted(owner, id, tierName, reason, caps, pending, opts.keepFilesWithoutState === true);
    } catch (err) {
      throw this.runtime.explainNoSpace?.(err, tenantOf(owner)) ?? err;
    } finally {
      pending.count--;
      if (pending.count === 0) this.pending.delete(owner);
    }
  }

  private async freezeCounted(owner: string, id: string, tierName: TierName, reason: string,
    caps: ReturnType<typeof spaceCapsFor>, pending: { bytes: number }, keepFilesWithoutState: boolean): Promise<SpaceInfo> {
    const spaceId = newTaggedId("spc", this.regionTag);
    const space = await this.sandboxes.runQueued(owner, id, async (rt, record, closing) => {
      let manifest: SpaceManifest;
      try {
        manifest = await spaceOp(rt, "space_save", undefined, closing);
      } catch (err) {
        if (!keepFilesWithoutState || !(err instanceof PodflareError) || err.code !== "no_space") throw err;
        await dropSpaceState(rt); // what part of it was written
        manifest = { saved: [], modules: [], failed: [{ name: STATE_NOT_KEPT, reason: `it did not fit in the sandbox's disk_mb, so only the files were kept: ${err.message}` }] };
      }
      const bytes = (await this.runtime.diskUsageBytes?.(rt)) ?? 0;
      const used = this.store.list(owner).reduce((sum, s) => sum + s.bytes, 0) + pending.bytes;
      try {
        checkSpaceBytes(used, bytes, caps, tierName);
      } catch (err) {
        await dropSpaceState(rt); // refused: the sandbox goes on as it was, without the saved state
        throw err;
      }
      pending.bytes += bytes;
      // Marked until its row is in: a root a crash leaves without one is then known as garbage.
      await this.runtime.markSpacePending?.(spaceId, true);
      try {
        await this.runtime.saveSpace(rt, spaceId);
      } catch (err) {
        await this.runtime.markSpacePending?.(spaceId, false);
        await dropSpaceState(rt);
        throw err;
      } finally {
        pending.bytes -= bytes;
      }
      const s: SpaceRecord = {
        id: spaceId,
        owner,
        sourceId: id,
        template: record.template,
        applied: record.applied,
        env: record.env,
        metadata: record.metadata,
        manifest,
        network: record.network,
        reason,
        createdAt: Date.now(),
        bytes,
      };
      try {
        this.store.insert(s);
      } finally {
        await this.runtime.markSpacePending?.(spaceId, false);
      }
      return s;
    });
    await this.sandboxes.delete(owner, id);
    return toInfo(space);
  }

  list(owner: string): SpaceInfo[] {
    return this.store.list(owner).map(toInfo);
  }

  get(owner: string, spaceId: string): SpaceInfo {
    return toInfo(this.own(owner, spaceId));
  }

  async delete(owner: string, spaceId: string): Promise<void> {
    this.own(owner, spaceId);
    await this.runtime.markSpacePending?.(spaceId, true);
    if (!this.store.delete(spaceId)) {
      await this.runtime.markSpacePending?.(spaceId, false);
      throw notFound(spaceId);
    }
    await this.runtime.deleteSpace(spaceId);
    await this.runtime.markSpacePending?.(spaceId, false);
  }

  /** A new ready sandbox with the Space's files and REPL state; consumes the Space. */
  async resume(owner: string, spaceId: string, tierName: TierName): Promise<ResumeSpaceResponse> {
    const space = this.own(owner, spaceId);
    // Claimed before the sandbox is made: the losers of a race start nothing and count nothing.
    if (this.resuming.has(spaceId)) throw notFound(spaceId);
    this.resuming.add(spaceId);
    try {
      return await this.resumeClaimed(owner, space, tierName);
    } finally {
      this.resuming.delete(spaceId);
    }
  }

  private async resumeClaimed(owner: string, space: SpaceRecord, tierName: TierName): Promise<ResumeSpaceResponse> {
    const spaceId = space.id;
    const a = space.applied;
    const created = await this.sandboxes.create(
      owner,
      {
        template: space.template,
        memory_mb: a.memory_mb,
        disk_mb: a.disk_mb,
        vcpus: a.vcpus,
        idle_timeout_s: a.idle_timeout_s,
        max_lifetime_s: a.max_lifetime_s,
        persistent: a.persistent,
        egress: a.egress,
        env: space.env,
        metadata: space.metadata,
        ...(space.network && a.egress ? { network: space.network } : {}),
      },
      tierName,
      { space: spaceId },
    );
    // Consumed from here on: a second resume of the same Space answers 404.
    await this.runtime.markSpacePending?.(spaceId, true);
    if (!this.store.delete(spaceId)) {
      await this.runtime.markSpacePending?.(spaceId, false);
      await this.sandboxes.delete(owner, created.id);
      throw notFound(spaceId);
    }
    await this.runtime.deleteSpace(spaceId).catch((e) => this.log(`could not delete the root of ${spaceId}: ${(e as Error).message}`));
    await this.runtime.markSpacePending?.(spaceId, false);
    const lost = [
      ...space.manifest.failed,
      ...(space.manifest.processes ?? []).map((p) => ({ name: p, reason: "a running process is not kept by a Space" })),
    ];
    let restored: string[] = [];
    // A Space frozen without its REPL state (it did not fit) has none to load: its files only.
    if (!space.manifest.failed.some((f) => f.name === STATE_NOT_KEPT)) {
      try {
        const loaded = await spaceOp(this.sandboxes.runtimeOf(owner, created.id), "space_load");
        restored = loaded.restored ?? [];
        lost.push(...loaded.failed);
      } catch (err) {
        lost.push({ name: "*", reason: `the REPL state could not be loaded: ${(err as Error).message}` });
      }
    }
    return { ...created, space_id: spaceId, restored, not_restored: lost };
  }

  /**
   * After a restart: rows whose root is gone are dropped. A root without a row is deleted only
   * when it was marked as being made or removed (a crash between the two); any other lost its
   * row (a metadata store restored from an older copy, its -wal file deleted) and is set aside
   * in `<pool>/spaces-lost/`, never deleted: a tenant's files are not hostd's to throw away.
   */
  async reconcile(): Promise<void> {
    const roots = new Set(await this.runtime.listSpaces());
    const pending = new Set((await this.runtime.pendingSpaces?.()) ?? []);
    const rows = this.store.list();
    for (const row of rows) if (!roots.has(row.id)) this.store.delete(row.id);
    const named = new Set(rows.map((r) => r.id));
    const setAside: string[] = [];
    for (const id of roots) {
      if (named.has(id)) continue;
      if (pending.has(id) || !this.runtime.setAsideSpace) await this.runtime.deleteSpace(id);
      else setAside.push(await this.runtime.setAsideSpace(id));
    }
    for (const id of pending) await this.runtime.markSpacePending?.(id, false);
    if (setAside.length) {
      this.log(
        `WARNING: ${setAside.length} Space root(s) have no row in the metadata store (was podflare.db restored from an older copy, ` +
          `or its -wal file deleted?); set aside, not deleted: ${setAside.join(", ")}. Restore the store that has them, or delete ` +
          `them once sure (docs/operations.md, "Spaces set aside")`,
      );
    }
  }

  private own(owner: string, spaceId: string): SpaceRecord {
    const s = /^spc_[0-9a-f]{32}$/.test(spaceId) ? this.store.get(spaceId) : undefined;
    if (!s || s.owner !== owner) throw notFound(spaceId);
    return s;
  }
}
