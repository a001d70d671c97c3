// A live sandbox's clocks: pause and resume, the idle timeout, expiry at max_lifetime_s, and
// what the reaper sees of every sandbox.
import type { SandboxInfo } from "@podflare/protocol";
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

/** Sets a new idle timeout (clamped to the tier) and restarts the idle clock. */
export function setIdleTimeout(p: ManagerParts, sb: LiveSandbox, idleTimeoutS: number, tierName: TierName): { idle_timeout_s: number; clamped: string[] } {
  const cap = tiers[tierName].idleTimeoutS;
  const applied = Math.min(idleTimeoutS, cap);
  sb.record.applied = { ...sb.record.applied, idle_timeout_s: applied };
  p.store.setApplied(sb.record.id, sb.record.applied);
  p.live.touch(sb);
  return { idle_timeout_s: applied, clamped: applied < idleTimeoutS ? ["idle_timeout_s"] : [] };
}

/**
 * Past max_lifetime_s (the reaper): the running exec is interrupted and ends with
 * ExitCode.Expired, queued execs and forks are refused; closing or freezing is the caller's.
 */
export function expire(sb: LiveSandbox, frozen: boolean): void {
  const s = sb.record.applied.max_lifetime_s;
  sb.expiry.abort(
    frozen
      ? `the sandbox reached max_lifetime_s=${s} and was interrupted and frozen to a Space; GET /v1/spaces lists it, POST /v1/spaces/<space_id>/resume brings it back`
      : `the sandbox reached max_lifetime_s=${s} and was interrupted and closed; create a new sandbox (max_lifetime_s is capped by your tier)`,
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
    maxLifetimeS: sb.record.applied.max_lifetime_s,
  }));
}
