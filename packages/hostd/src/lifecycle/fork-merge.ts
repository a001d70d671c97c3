// fork(n) and merge_into on live sandboxes: the children's records and the runtime's fork,
// and a parent taking over the runtime of one of its fork descendants.
import { PodflareError } from "@podflare/protocol";
import type { Runtime } from "../runtime/types.js";
import type { SandboxRecord, SandboxTable } from "../store/store.js";
import type { Clock } from "./clock.js";
import { expiredError, newSandboxId, type LiveSandbox, type LiveSandboxes } from "./live-sandboxes.js";
import { NOT_CARRIED, remainingLifetimeS, type ForkResponse } from "./fork-child.js";
import { setHandle } from "./runtime-handle.js";
import { notFound } from "./sandbox-info.js";
import { SerialQueue } from "./serial-queue.js";
import type { UsageStore } from "./usage.js";

export interface ForkMergeDeps {
  live: LiveSandboxes;
  store: SandboxTable;
  runtime: Runtime;
  clock: Clock;
  usage?: UsageStore;
  /** Counts children while they are made (SandboxManager.creatingNow). */
  countMaking(delta: number): void;
  /** This hostd's region tag: children's ids start with it (docs/edge.md). */
  regionTag?: string;
}

/**
 * Forks `sb` into n children, queued behind the sandbox's running and waiting execs; every
 * child is ready when this resolves. The caller holds the children's concurrency slots.
 */
export function forkQueued(d: ForkMergeDeps, owner: string, sb: LiveSandbox, id: string, n: number): Promise<ForkResponse> {
  return d.live.enqueue(sb, async (): Promise<ForkResponse> => {
    if (d.live.find(id) !== sb) throw notFound(id);
    if (sb.expiry.signal.aborted) throw expiredError(sb.record);
    d.usage?.forks(owner, n);
    const now = d.clock.now();
    const records: SandboxRecord[] = Array.from({ length: n }, () => {
      const childId = newSandboxId(d.regionTag);
      return {
        ...sb.record,
        id: childId,
        runtimeKey: childId,
        state: "ready" as const,
        parentId: id,
        // A child lives no longer than its parent would: forking never extends max_lifetime_s.
        applied: { ...sb.record.applied, max_lifetime_s: remainingLifetimeS(sb.record, now) },
        metadata: { ...sb.record.metadata },
        env: { ...sb.record.env },
        createdAt: now,
        lastActiveAt: now,
      };
    });
    d.countMaking(n);
    let result;
    try {
      result = await d.runtime.fork(sb.rt, records.map((r) => d.live.specOf(r)));
    } finally {
      d.countMaking(-n);
    }
    for (const [i, record] of records.entries()) {
      const rt = result.children[i]!;
      setHandle(record, rt);
      d.store.insert(record);
      d.live.track(record, rt);
    }
    const warnings: string[] = [];
    if (!result.landlock) {
      warnings.push("landlock: this host's kernel cannot scope signals (Landlock ABI < 6): the parent and its children can signal each other's processes; see docs/security.md");
    }
    return { children: records.map((r) => r.id), not_carried: [...NOT_CARRIED], warnings };
  });
}

/**
 * merge_into: `parentId` takes over the runtime (REPL and root) of `winnerId`, a descendant;
 * the parent's old runtime is destroyed and the winner id retired. Siblings keep running.
 */
export async function mergeQueued(d: ForkMergeDeps, owner: string, parentId: string, winnerId: string): Promise<void> {
  const parent = d.live.get(owner, parentId);
  if (parentId === winnerId) {
    throw new PodflareError("bad_request", `cannot merge sandbox ${parentId} into itself; pass one of its fork children`);
  }
  const winner = d.live.get(owner, winnerId);
  if (!isDescendant(d, winnerId, parentId)) {
    throw new PodflareError("bad_request", `sandbox ${winnerId} is not a fork descendant of ${parentId}; merge_into takes a child (or grandchild) of the sandbox`);
  }
  const run = async () => {
    if (d.live.find(parentId) !== parent || d.live.find(winnerId) !== winner) throw notFound(winnerId);
    const old = parent.rt;
    d.store.merge(parentId, winner.record);
    const record: SandboxRecord = {
      ...parent.record,
      runtimeKey: winner.record.runtimeKey,
      initPid: winner.record.initPid,
      initStartTime: winner.record.initStartTime,
      familyId: winner.record.familyId,
      familyPid: winner.record.familyPid,
      familyStartTime: winner.record.familyStartTime,
      outerFamily: winner.record.outerFamily,
      template: winner.record.template,
      applied: winner.record.applied,
      env: winner.record.env,
      network: winner.record.network,
      lastActiveAt: d.clock.now(),
    };
    d.live.remove(winnerId);
    d.live.track(record, winner.rt);
    for (const other of d.live.values()) {
      if (other.record.parentId === winnerId) other.record.parentId = parentId;
    }
    await old.destroy();
  };
  // Behind both sandboxes' queued work.
  return SerialQueue.runAcross([parent.queue, winner.queue], run);
}

function isDescendant(d: ForkMergeDeps, id: string, ancestor: string): boolean {
  let cur = d.live.find(id)?.record.parentId ?? null;
  const seen = new Set<string>();
  while (cur !== null && !seen.has(cur)) {
    if (cur === ancestor) return true;
    seen.add(cur);
    cur = d.live.find(cur)?.record.parentId ?? d.store.get(cur)?.parentId ?? null;
  }
  return false;
}
