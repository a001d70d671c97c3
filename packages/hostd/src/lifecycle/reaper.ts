// The reaper: an idle sandbox (no API call for idle_timeout_s) is paused, and after as long
// again closed — or frozen to a Space when it was created persistent (closed if the freeze
// cannot be made, or not within a minute). Each sandbox's action runs on its own. One paused by a call
// (POST …/pause) is kept paused: the caller asked for it to wait. Busy sandboxes (an exec
// running) are never idle. A sandbox past max_lifetime_s goes the same way at once, busy or not:
// its running exec is interrupted first (calls reset the idle clock, never the lifetime).
import type { TierName } from "../auth/tiers.js";
import { systemClock, type Clock } from "./clock.js";
import type { LifecycleView } from "./lifecycle-view.js";
import type { SandboxManager } from "./sandbox-manager.js";
import type { SpaceService } from "./spaces.js";

export type { LifecycleView } from "./lifecycle-view.js";

export type ReaperAction = "expire" | "retire" | "pause" | null;

/** What the reaper does to one sandbox now. Pure: unit-tested beside. */
export function decide(s: LifecycleView): ReaperAction {
  if (s.ageMs >= s.maxLifetimeS * 1000) return "expire";
  if (s.busy) return null;
  const idleLimitMs = s.idleTimeoutS * 1000;
  if (s.state === "paused" && !s.pausedByCall && s.idleMs >= 2 * idleLimitMs) return "retire";
  if (s.state === "ready" && s.idleMs >= idleLimitMs) return "pause";
  return null;
}

export interface ReaperOptions {
  intervalMs?: number;
  clock?: Clock;
  /** The owner's tier: a freeze by the reaper counts against its Space caps. */
  tierOf?: (owner: string) => TierName;
  /** A persistent sandbox not frozen within this long is closed instead (its caps hold). */
  freezeDeadlineMs?: number;
  /** Whether the host's storage pool is full (then a failed freeze is kept paused and retried). */
  poolFull?: () => boolean;
  /** How long a sandbox whose freeze failed on a full pool waits before the next try. */
  freezeRetryMs?: number;
}

const FREEZE_DEADLINE_MS = 60_000;
const FREEZE_RETRY_MS = 10_000;

/** `p`, or `why` once `ms` passed (p goes on; its outcome is then ignored). */
function withinMs<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why)), ms);
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

type Sandboxes = Pick<SandboxManager, "lifecycleView" | "expire" | "pause" | "delete">;
type Spaces = Pick<SpaceService, "freeze">;

export class Reaper {
  private ticker: { stop(): void } | null = null;
  /** Sandboxes with an action under way: not acted on again until it ends. */
  private readonly underWay = new Set<string>();
  /** Persistent sandboxes kept paused after a freeze failed on a full pool: next try not before. */
  private readonly heldUntil = new Map<string, number>();
  private readonly clock: Clock;

  constructor(
    private readonly sandboxes: Sandboxes,
    private readonly spaces: Spaces,
    private readonly log: (msg: string) => void,
    private readonly opts: ReaperOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    this.ticker = this.clock.every(this.opts.intervalMs ?? 250, () => void this.tick());
  }

  stop(): void {
    this.ticker?.stop();
    this.ticker = null;
  }

  /**
   * Starts what is due for each sandbox that has nothing under way yet, and resolves when those
   * are done. Each sandbox's action runs on its own: one that takes long (a freeze waiting for
   * an exec whose client reads slowly) holds up no other sandbox's caps.
   */
  async tick(): Promise<void> {
    const started: Promise<void>[] = [];
    const now = this.clock.now();
    const view = this.sandboxes.lifecycleView(now);
    if (this.heldUntil.size) {
      const live = new Set(view.map((s) => s.id));
      for (const id of this.heldUntil.keys()) if (!live.has(id)) this.heldUntil.delete(id);
    }
    for (const s of view) {
      if (this.underWay.has(s.id) || (this.heldUntil.get(s.id) ?? 0) > now) continue;
      const action = decide(s);
      if (action === null) continue;
      const work = this.act(s, action)
        .catch((err: unknown) => this.log(`reaper: ${s.id}: ${(err as Error).message}`))
        .finally(() => this.underWay.delete(s.id));
      this.underWay.add(s.id);
      started.push(work);
    }
    await Promise.all(started);
  }

  private async act(s: LifecycleView, action: Exclude<ReaperAction, null>): Promise<void> {
    if (action === "expire") {
      this.sandboxes.expire(s.owner, s.id, s.persistent);
      await this.retire(s, "lifetime");
    } else if (action === "retire") {
      await this.retire(s, "idle");
    } else {
      await this.sandboxes.pause(s.owner, s.id);
    }
  }

  private async retire(s: LifecycleView, reason: string): Promise<void> {
    if (s.persistent) {
      try {
        const space = await withinMs(
          // Files without the REPL's state when the state does not fit in the sandbox's own disk;
          // never when the host's pool is full (then the sandbox is kept paused, state and all).
          this.spaces.freeze(s.owner, s.id, this.opts.tierOf?.(s.owner) ?? "enterprise", reason, { keepFilesWithoutState: !this.opts.poolFull?.() }),
          this.opts.freezeDeadlineMs ?? FREEZE_DEADLINE_MS,
          "the freeze did not finish in time (an exec still running, or its client not reading)",
        );
        this.heldUntil.delete(s.id);
        this.log(`reaper: froze ${s.id} (${reason}) to ${space.space_id}`);
        return;
      } catch (err) {
        if (this.opts.poolFull?.()) {
          // The host's fault, not the tenant's: its files and REPL state are kept. Paused, it runs
          // nothing (so the caps hold) and is frozen once the pool has room.
          await this.sandboxes.pause(s.owner, s.id).catch(() => undefined);
          this.heldUntil.set(s.id, this.clock.now() + (this.opts.freezeRetryMs ?? FREEZE_RETRY_MS));
          this.log(`WARNING: reaper: could not freeze ${s.id} (${reason}): the host's storage pool is full; kept paused, the freeze is tried again every ${Math.round((this.opts.freezeRetryMs ?? FREEZE_RETRY_MS) / 1000)} s until it has room`);
          return;
        }
        // The idle and lifetime caps hold even when the freeze cannot be made (e.g. Space caps).
        this.log(`reaper: could not freeze ${s.id} (${reason}), closing it: ${(err as Error).message}`);
      }
    }
    await this.sandboxes.delete(s.owner, s.id);
    this.log(`reaper: closed ${s.id} (${reason})`);
  }
}
