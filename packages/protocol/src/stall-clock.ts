// How long a client has stalled, for the idle timeouts of hostd and the edge (both their
// connection-limits.ts). Node's socket timeout alone cut a client that stopped reading only at
// twice the timeout: it skips a socket's first timeout while its write queue moves. So the
// servers look every quarter of the timeout, and a stall is timed across consecutive looks.

export class StallClock<K extends object> {
  /** How often to look: the socket timeout to set. */
  readonly lookMs: number;
  private readonly stalls = new WeakMap<K, { sinceMs: number; lastMs: number }>();

  constructor(private readonly idleTimeoutMs: number) {
    this.lookMs = Math.max(1, Math.floor(idleTimeoutMs / 4));
  }

  /** At a look: true when `key` has been stalled for the whole idle timeout (close it then). */
  expired(key: K, stalled: boolean, nowMs = Date.now()): boolean {
    if (!stalled) {
      this.stalls.delete(key);
      return false;
    }
    // A look that came late was put off by progress in between: the stall starts again.
    const prev = this.stalls.get(key);
    const sinceMs = prev && nowMs - prev.lastMs <= this.lookMs * 1.5 ? prev.sinceMs : nowMs - this.lookMs;
    if (nowMs - sinceMs >= this.idleTimeoutMs) return true;
    this.stalls.set(key, { sinceMs, lastMs: nowMs });
    return false;
  }
}
