// Token buckets keyed by a sandbox's address (the DNS forwarder's per-sandbox query limit).
// Pure: the clock is injected, so the unit test runs without waiting.

export interface RateLimitOptions {
  /** Tokens added per second (queries per second allowed on average). */
  perSecond: number;
  /** Bucket size: how many queries may come at once after a quiet spell. */
  burst: number;
  /** Most keys kept; the oldest is forgotten first (sources are sandbox addresses). */
  maxKeys?: number;
  nowMs?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.now = opts.nowMs ?? (() => performance.now());
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= (this.opts.maxKeys ?? 65_536)) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.opts.burst, atMs: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.opts.burst, b.tokens + ((t - b.atMs) / 1000) * this.opts.perSecond);
    b.atMs = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
