// What a fork child gets from its parent and what it does not: the rest of the parent's lifetime,
// and the list of what the ns runtime cannot carry (returned with every fork).
import type { SandboxRecord } from "../store/store.js";

/** What the ns runtime does not carry into fork children (also in docs/api.md and docs/fork.md). */
export const NOT_CARRIED = [
  "processes other than the guest kernel (servers and background jobs started from bash or subprocess) stay in the parent",
  "threads other than the REPL's main thread",
  "open sockets and pipes: a child's copies are not connected to anything new (the parent's peers keep talking to the parent)",
  "files the REPL holds open that were deleted from disk: the child shares them with the parent",
  "shared memory maps of files (mmap with MAP_SHARED, numpy.memmap in r+ mode, LMDB): the child's map is still the parent's file, so writes through it reach the parent and its other children; map the file again in the child",
] as const;

export type { ForkResponse } from "@podflare/protocol";

/** Whole seconds left of `endS` (from the record's creation) at `now`, rounded down; 0 under a second. */
function secondsLeft(r: Pick<SandboxRecord, "createdAt">, endS: number, now: number): number {
  return Math.max(0, Math.floor((endS * 1000 - (now - r.createdAt)) / 1000));
}

/**
 * Whole seconds left of the record's end (its lifetime_s, else max_lifetime_s) at `now`,
 * rounded down; 0 when less than a second is left (no child can be made then).
 */
export function remainingLifetimeS(r: Pick<SandboxRecord, "createdAt" | "applied">, now: number): number {
  return secondsLeft(r, Math.min(r.applied.max_lifetime_s, r.applied.lifetime_s ?? r.applied.max_lifetime_s), now);
}

/**
 * A fork child's lifetimes, counted from its own creation at `now`: it ends when its parent
 * would (lifetime_s, when the parent's ends it sooner than its cap), and it can be moved, as
 * the parent could, up to what is left of the parent's max_lifetime_s: forking never extends
 * the cap, whatever the lineage.
 */
export function childLifetimes(r: Pick<SandboxRecord, "createdAt" | "applied">, now: number): { max_lifetime_s: number; lifetime_s?: number } {
  const maxS = secondsLeft(r, r.applied.max_lifetime_s, now);
  const endS = remainingLifetimeS(r, now);
  return endS < maxS ? { max_lifetime_s: maxS, lifetime_s: endS } : { max_lifetime_s: maxS };
}

/**
 * A parent's lifetimes once a descendant is merged into it, counted from the parent's own
 * creation (which it keeps): its max_lifetime_s stays; the winner's end (its lifetime_s, moved
 * or not) is carried over into the parent's count, never past that cap.
 */
export function mergedLifetimes(parent: Pick<SandboxRecord, "createdAt" | "applied">, winner: Pick<SandboxRecord, "createdAt" | "applied">): { max_lifetime_s: number; lifetime_s?: number } {
  const maxS = parent.applied.max_lifetime_s;
  // An end at the winner's own cap is the parent's cap (to the second the fork rounded away).
  if (winner.applied.lifetime_s === undefined || winner.applied.lifetime_s >= winner.applied.max_lifetime_s) return { max_lifetime_s: maxS };
  const endS = Math.floor((winner.createdAt - parent.createdAt) / 1000) + winner.applied.lifetime_s;
  return endS < maxS ? { max_lifetime_s: maxS, lifetime_s: endS } : { max_lifetime_s: maxS };
}
