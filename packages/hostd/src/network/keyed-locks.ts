// One network change per sandbox at a time (attach, detach, policy, restore: each reads the
// address table, then runs `ip` and `nft`, and two of them interleaved leave a link, a route or
// an address that the other undid), and the drift check's repairs with none running at all.

export class KeyedLocks {
  /** Settles when the last job queued for the key is done; never rejects. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Jobs queued and not yet done: an exclusive job waits for all of them. */
  private readonly pending = new Set<Promise<void>>();
  /** Settles when the last exclusive job is done; jobs queued after it wait for it. */
  private gate: Promise<void> = Promise.resolve();

  /** Runs `fn` after the jobs queued before it on any of `keys` (and any exclusive job). */
  withKeys<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const before = [this.gate, ...keys.map((k) => this.tails.get(k) ?? Promise.resolve())];
    const result = Promise.all(before).then(fn);
    const done = result.then(() => undefined, () => undefined);
    this.pending.add(done);
    for (const k of keys) this.tails.set(k, done);
    void done.then(() => {
      this.pending.delete(done);
      for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k);
    });
    return result;
  }

  withKey<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.withKeys([key], fn);
  }

  /** Runs `fn` once every job queued so far is done; jobs queued meanwhile wait for it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = Promise.all([this.gate, ...this.pending]).then(fn);
    this.gate = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Whether a job for the key is queued or running. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
