// Each key's share of the edge's connections to origins. Those connections are shared by every
// tenant: one key holding hundreds of slow uploads took them all, and every other key's calls
// to that region hung or failed (outside tester th). A caller is the key hostd will
// authenticate the call with, read by hostd's own rule (@podflare/protocol, callerOf; never
// logged), or its address when it sends none; a call over its caller's share is answered 429
// at once, before it takes a connection. An E2B sandbox call made with an access token counts
// under that token: the edge cannot read the key sealed in it.
import { PodflareError } from "@podflare/protocol";

export class KeyShares {
  private readonly open = new Map<string, number>();

  constructor(readonly perKey: number) {}

  /** One more call of `caller` to an origin; false: it is at its share. */
  enter(caller: string): boolean {
    const n = this.open.get(caller) ?? 0;
    if (n >= this.perKey) return false;
    this.open.set(caller, n + 1);
    return true;
  }

  leave(caller: string): void {
    const n = (this.open.get(caller) ?? 1) - 1;
    if (n > 0) this.open.set(caller, n);
    else this.open.delete(caller);
  }

  /** The answer for a call over its caller's share. */
  refusal(): PodflareError {
    return new PodflareError("concurrency_limit", `this key has ${this.perKey} calls open through the edge at once, its share (PODFLARE_EDGE_CALLS_PER_KEY); wait for some to finish, then retry`, { "retry-after": "1" });
  }

  /** Calls open now (tests). */
  count(caller: string): number {
    return this.open.get(caller) ?? 0;
  }
}
