// fork(n) and merge_into on live sandboxes: the children's records and the runtime's fork,
// and a parent taking over the runtime of one of its fork descendants.
import { PodflareError } from "@podflare/protocol";
import type { Runtime } from "../runtime/types.js";
import type { SandboxRecord, SandboxTable } from "../store/store.js";
import type { Clock } from "./clock.js";
import { expiredError, newSandboxId, type LiveSandbox, type LiveSandboxes } from "./live-sandboxes.js";
import { NOT_CARRIED, childLifetimes, mergedLifetimes, remainingLifetimeS, type ForkResponse } from "./fork-child.js";
import { setHandle } from "./runtime-handle.js";
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
  // The copy is a state change: a delete, pause or restart of the parent waits for it.
  return d.live.enqueue(sb, () => d.live.exclusive(sb, async (): Promise<ForkResponse> => {
    if (sb.expiry.signal.aborted) throw expiredError(sb.record);
    const now = d.clock.now();
    const lifetimeS = remainingLifetimeS(sb.record, now);
    // The parent's lifetimes count from the parent's creation; the child's from its own.
    const { lifetime_s: _parentsEnd, ...inherited } = sb.record.applied;
    if (lifetimeS < 1) {
      throw new PodflareError("sandbox_expired", `sandbox ${id} has less than a second of its max_lifetime_s=${sb.record.applied.max_lifetime_s} left, and a fork child never outlives its parent; create a new sandbox`);
    }
    d.usage?.forks(owner, n);
    const records: SandboxRecord[] = Array.from({ length: n }, () => {
      const childId = newSandboxId(d.regionTag);
      return {
        ...sb.record,
        id: childId,
        runtimeKey: childId,
        state: "ready" as const,
        parentId: id,
        forkedFrom: sb.record.runtimeKey,
        pausedByCall: false,
        applied: { ...inherited, ...childLifetimes(sb.record, now) },
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
  }));
}

/**
 * merge_into: `parentId` takes over the runtime (REPL and root) of `winnerId`, a descendant;
 * the parent's old runtime is destroyed and the winner id retired. Siblings keep running, but
 * no longer merge: they were forked from the runtime the first merge replaced (409).
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
  checkForkPoint(d, parent, winnerId);
  const run = async () => {
    // Checked again in turn: a merge queued just before this one may have replaced the parent.
    checkForkPoint(d, parent, winnerId);
    const old = parent.rt;
    // The winner's limits, with its lifetimes counted from the parent's creation, which the
    // parent keeps (they counted from the winner's: each merge cut the parent's lifetime).
    const { lifetime_s: _winnersEnd, max_lifetime_s: _winnersCap, ...limits } = winner.record.applied;
    const applied = { ...limits, ...mergedLifetimes(parent.record, winner.record) };
    d.store.merge(parentId, { ...winner.record, applied });
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
      applied,
      env: winner.record.env,
      network: winner.record.network,
      lastActiveAt: d.clock.now(),
    };
    // The winner's id ends here: its time so far is counted as a closed sandbox's (it was
    // dropped, and an owner's sandbox_seconds went down with each merge; outside tester tm).
    d.usage?.sandboxClosed(owner, { createdAt: winner.record.createdAt, memoryMb: winner.record.applied.memory_mb });
    d.live.remove(winnerId);
    // The same entry, so the calls queued behind this merge run on the new runtime.
    parent.record = record;
    parent.rt = winner.rt;
    for (const other of d.live.values()) {
      if (other.record.parentId === winnerId) other.record.parentId = parentId;
    }
    await old.destroy();
  };
  // Behind both sandboxes' queued work, and as a state change of both (live and awake).
  return SerialQueue.runAcross([parent.queue, winner.queue], () => d.live.exclusive(parent, () => d.live.exclusive(winner, run)));
}

/**
 * A merge takes a descendant of the parent's current runtime: once the parent was merged into,
 * the children forked before that carry state the merge threw away, so merging one would
 * silently undo the first merge (two racing merges both answered 204; one was lost).
 */
function checkForkPoint(d: ForkMergeDeps, parent: LiveSandbox, winnerId: string): void {
  // The parent's child on the way down to the winner (live ones only: parentId has no cycles).
  let cur = d.live.find(winnerId);
  for (let depth = 0; cur && cur.record.parentId !== parent.record.id && depth < 64; depth++) {
    cur = cur.record.parentId === null ? undefined : d.live.find(cur.record.parentId);
  }
  if (!cur?.record.forkedFrom || cur.record.forkedFrom === parent.record.runtimeKey) return;
  throw new PodflareError(
    "conflict",
    `sandbox ${parent.record.id} was merged into since ${cur.record.id} was forked from it, so ${winnerId} no longer descends from its state ` +
      `and merging it would undo that merge; fork ${parent.record.id} again and merge one of the new children`,
  );
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
