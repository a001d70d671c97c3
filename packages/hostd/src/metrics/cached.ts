// A value that costs a process start to read (btrfs, nft), refreshed at most every `maxAgeMs`:
// a scrape gets the last reading at once and starts a refresh when it is stale, so a scrape
// never waits on the tool and a fast scraper never runs it more often than that.
export class CachedReading {
  private value: number | null = null;
  private readAt = -Infinity;
  private inFlight = false;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last reading (null before the first one finished or after a failed one). */
  get(): number | null {
    if (!this.inFlight && this.now() - this.readAt >= this.maxAgeMs) void this.refresh();
    return this.value;
  }

  /** Reads now; what callers await at start so the first scrape already has a value. */
  async refresh(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      this.value = await this.read();
    } catch {
      this.value = null;
    } finally {
      this.readAt = this.now();
      this.inFlight = false;
    }
  }
}
