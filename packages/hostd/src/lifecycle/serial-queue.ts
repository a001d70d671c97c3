// One sandbox's work, one job at a time in arrival order (execs, forks, merges, Space freezes).
// A job runs after those before it however they ended: a failed exec never blocks the next.

export class SerialQueue {
  /** Settles when the last job queued so far is done; never rejects. */
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every job queued before it; resolves or rejects as `fn` does. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `fn` once the jobs queued so far on every one of `queues` are done; their later jobs wait for it. */
  static runAcross<T>(queues: SerialQueue[], fn: () => Promise<T>): Promise<T> {
    const all = Promise.all(queues.map((q) => q.tail));
    const result = all.then(fn, fn);
    const tail = result.catch(() => undefined);
    for (const q of queues) q.tail = tail;
    return result;
  }
}
