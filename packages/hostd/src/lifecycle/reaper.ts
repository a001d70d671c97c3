// The reaper: an idle sandbox (no API call for idle_timeout_s) is paused, and after as long
// again closed — or frozen to a Space when it was created persistent. Busy sandboxes (an exec
// running) are never idle. A sandbox past max_lifetime_s goes the same way at once, busy or not:
// its running exec is interrupted first (calls reset the idle clock, never the lifetime).
import type { SandboxManager } from "./sandbox-manager.js";
import type { SpaceService } from "./spaces.js";

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly sandboxes: SandboxManager,
    private readonly spaces: SpaceService,
    private readonly log: (msg: string) => void,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const s of this.sandboxes.lifecycleView()) {
        const idleLimitMs = s.idleTimeoutS * 1000;
        const expired = s.ageMs >= s.maxLifetimeS * 1000;
        if (s.busy && !expired) continue;
        try {
          if (expired) this.sandboxes.expire(s.owner, s.id, s.persistent);
          if (expired || (s.state === "paused" && s.idleMs >= 2 * idleLimitMs)) {
            await this.retire(s.id, s.owner, s.persistent, expired ? "lifetime" : "idle");
          } else if (s.state === "ready" && s.idleMs >= idleLimitMs) {
            await this.sandboxes.pause(s.owner, s.id);
          }
        } catch (err) {
          this.log(`reaper: ${s.id}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async retire(id: string, owner: string, persistent: boolean, reason: string): Promise<void> {
    if (persistent) {
      try {
        const space = await this.spaces.freeze(owner, id, "enterprise", reason);
        this.log(`reaper: froze ${id} (${reason}) to ${space.space_id}`);
        return;
      } catch (err) {
        // The idle and lifetime caps hold even when the freeze cannot be made.
        this.log(`reaper: could not freeze ${id} (${reason}), closing it: ${(err as Error).message}`);
      }
    }
    await this.sandboxes.delete(owner, id);
    this.log(`reaper: closed ${id} (${reason})`);
  }
}
