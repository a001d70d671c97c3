// A value that costs a process start to read (btrfs, nft; ~1.5 ms each, docs/operations.md),
// read again only when older than `maxAgeMs`: a fast scraper never runs the tool more often
// than that, and concurrent scrapes share one read.
export class CachedReading {
  private value: number | null = null;
  private readAt = -Infinity;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The reading, at most `maxAgeMs` old; null if the tool failed (the metric is then left out). */
  async get(): Promise<number | null> {
    if (this.now() - this.readAt >= this.maxAgeMs) await this.refresh();
    return this.value;
  }

  refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        this.value = await this.read();
      } catch {
        this.value = null;
      } finally {
        this.readAt = this.now();
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }
}
