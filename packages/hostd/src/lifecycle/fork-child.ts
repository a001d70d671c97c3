// What a fork child gets from its parent and what it does not: the rest of the parent's lifetime,
// and the list of what the ns runtime cannot carry (returned with every fork).
import type { SandboxRecord } from "../store/store.js";

/** What the ns runtime does not carry into fork children (also in docs/api.md and docs/fork.md). */
export const NOT_CARRIED = [
  "processes other than the guest kernel (servers and background jobs started from bash or subprocess) stay in the parent",
  "threads other than the REPL's main thread",
  "open sockets and pipes: a child's copies are not connected to anything new (the parent's peers keep talking to the parent)",
  "files the REPL holds open that were deleted from disk: the child shares them with the parent",
] as const;

export type { ForkResponse } from "@podflare/protocol";

/**
 * Whole seconds left of the record's max_lifetime_s at `now`, rounded down so that a fork child
 * never outlives its parent; 0 when less than a second is left (no child can be made then).
 */
export function remainingLifetimeS(r: Pick<SandboxRecord, "createdAt" | "applied">, now: number): number {
  const endS = Math.min(r.applied.max_lifetime_s, r.applied.lifetime_s ?? r.applied.max_lifetime_s);
  return Math.max(0, Math.floor((endS * 1000 - (now - r.createdAt)) / 1000));
}
