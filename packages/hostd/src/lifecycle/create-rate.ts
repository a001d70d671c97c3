// How fast an owner may start sandboxes (creates, fork children, Space resumes): a token
// bucket per owner, sized by its tier (tiers.ts createsPerS, createBurst). The concurrency cap
// bounds how many sandboxes a key runs at once; this bounds how fast it turns them over.
// Making and removing a sandbox costs the host work no sandbox's cgroup pays for (btrfs
// snapshots and their cleaner, the jail helpers): ten creates and deletes a second from one
// free key slowed other keys' creates tenfold (outside tester tj). Pure: the clock is injected.
import { PodflareError } from "@podflare/protocol";
import { tiers, type TierName } from "../auth/tiers.js";

interface Bucket {
  tokens: number;
  atMs: number;
  burst: number;
  perS: number;
}

export class CreateRate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /**
   * Takes n starts for the owner, all or none: throws 429 `rate_limited` with Retry-After (the
   * seconds until n are there) when its tier's bucket holds fewer. Synchronous, so racing
   * calls see each other. A start that then fails is not given back: a failed make can have
   * cost the host as much as one that worked.
   */
  take(owner: string, n: number, tierName: TierName, what: string): void {
    const tier = tiers[tierName];
    const b = this.refilled(owner, tier.createsPerS, tier.createBurst);
    if (b.tokens >= n) {
      b.tokens -= n;
      return;
    }
    const waitS = Math.max(1, Math.ceil((Math.min(n, b.burst) - b.tokens) / b.perS));
    throw new PodflareError(
      "rate_limited",
      `${what} would start sandboxes faster than the ${tierName} tier allows (${tier.createsPerS} a second, ${tier.createBurst} at once after a quiet spell); retry in ${waitS} s`,
      { "Retry-After": String(waitS) },
    );
  }

  private refilled(owner: string, perS: number, burst: number): Bucket {
    const t = this.nowMs();
    let b = this.buckets.get(owner);
    if (!b) {
      if (this.buckets.size >= 10_000) this.prune(t);
      b = { tokens: burst, atMs: t, burst, perS };
      this.buckets.set(owner, b);
    }
    // The tier read now: a key moved to another tier gets that tier's rate and burst.
    b.tokens = Math.min(burst, b.tokens + ((t - b.atMs) / 1000) * perS);
    b.atMs = t;
    b.burst = burst;
    b.perS = perS;
    return b;
  }

  /** Buckets that have refilled are the same as none. */
  private prune(t: number): void {
    for (const [owner, b] of this.buckets) {
      if (b.tokens + ((t - b.atMs) / 1000) * b.perS >= b.burst) this.buckets.delete(owner);
    }
  }
}
