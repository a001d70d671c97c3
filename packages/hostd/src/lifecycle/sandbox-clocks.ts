// A live sandbox's clocks: pause and resume, the idle timeout, expiry at max_lifetime_s, and
// what the reaper sees of every sandbox.
import type { AppliedLimits, SandboxInfo } from "@podflare/protocol";
import { tiers, type TierName } from "../auth/tiers.js";
import type { LifecycleView } from "./lifecycle-view.js";
import type { LiveSandbox } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";

/**
 * Pause and resume are state changes: they wait for a fork's copy, a restart or a close under way.
 * `byCall`: asked for by a call, not the reaper; such a pause is kept (SandboxRecord.pausedByCall).
 */
export async function pause(p: ManagerParts, sb: LiveSandbox, byCall: boolean): Promise<SandboxInfo> {
  return p.live.exclusive(sb, async () => {
    if (sb.record.state !== "paused") {
      await sb.rt.pause();
      p.live.setState(sb, "paused", byCall);
      // A call queued before the pause would have woken it had it come after: it waits behind
      // the exec the pause froze, so it is woken now (outside tester ts: both hung for good).
      if (sb.waiting > 0) void p.live.wake(sb).catch(() => undefined);
    } else if (byCall && !sb.record.pausedByCall) {
      p.live.setState(sb, "paused", true); // paused by the reaper, now kept by a call
    }
    return p.live.describe(sb);
  }, false);
}

export async function resume(p: ManagerParts, sb: LiveSandbox): Promise<SandboxInfo> {
  p.live.touch(sb);
  return p.live.exclusive(sb, async () => p.live.describe(sb));
}

export interface TimeoutChange {
  idleTimeoutS?: number;
  lifetimeS?: number;
}

/** Seconds after its creation when the sandbox ends: lifetime_s where set, never past max_lifetime_s. */
export function lifetimeEndS(a: Pick<AppliedLimits, "max_lifetime_s" | "lifetime_s">): number {
  return Math.min(a.max_lifetime_s, a.lifetime_s ?? a.max_lifetime_s);
}

/**
 * A new idle timeout (clamped to the tier; the idle clock restarts) and/or a new lifetime_s,
 * moved either way but never past the max_lifetime_s the sandbox was created with: nothing
 * extends that (forks included).
 */
export function setTimeouts(p: ManagerParts, sb: LiveSandbox, change: TimeoutChange, tierName: TierName): { idle_timeout_s: number; lifetime_s?: number; clamped: string[] } {
  const clamped: string[] = [];
  const next = { ...sb.record.applied };
  if (change.idleTimeoutS !== undefined) {
    next.idle_timeout_s = Math.min(change.idleTimeoutS, tiers[tierName].idleTimeoutS);
    if (next.idle_timeout_s < change.idleTimeoutS) clamped.push("idle_timeout_s");
  }
  if (change.lifetimeS !== undefined) {
    next.lifetime_s = Math.min(change.lifetimeS, next.max_lifetime_s);
    if (next.lifetime_s < change.lifetimeS) clamped.push("lifetime_s");
  }
  sb.record.applied = next;
  p.store.setApplied(sb.record.id, next);
  p.live.touch(sb);
  return { idle_timeout_s: next.idle_timeout_s, ...(next.lifetime_s !== undefined ? { lifetime_s: next.lifetime_s } : {}), clamped };
}

/**
 * Past max_lifetime_s (the reaper): the running exec is interrupted and ends with
 * ExitCode.Expired, queued execs and forks are refused; closing or freezing is the caller's.
 */
export function expire(sb: LiveSandbox, frozen: boolean): void {
  const a = sb.record.applied;
  const s = a.lifetime_s !== undefined && a.lifetime_s < a.max_lifetime_s ? `lifetime_s=${a.lifetime_s}` : `max_lifetime_s=${a.max_lifetime_s}`;
  sb.expiry.abort(
    frozen
      ? `the sandbox reached ${s} and was interrupted and frozen to a Space; GET /v1/spaces lists it, POST /v1/spaces/<space_id>/resume brings it back`
      : `the sandbox reached ${s} and was interrupted and closed; create a new sandbox (max_lifetime_s is capped by your tier)`,
  );
}

/** What the reaper looks at: every live sandbox with its clocks at `now`. */
export function lifecycleView(p: ManagerParts, now: number): LifecycleView[] {
  return [...p.live.values()].map((sb) => ({
    id: sb.record.id,
    owner: sb.record.owner,
    state: sb.record.state,
    persistent: sb.record.applied.persistent,
    pausedByCall: sb.record.pausedByCall,
    busy: sb.busy > 0,
    idleMs: sb.proxied ? 0 : now - sb.record.lastActiveAt,
    ageMs: now - sb.record.createdAt,
    idleTimeoutS: sb.record.applied.idle_timeout_s,
    maxLifetimeS: lifetimeEndS(sb.record.applied),
  }));
}
