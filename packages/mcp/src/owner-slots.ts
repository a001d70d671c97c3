// MCP calls over HTTP at once, per key. A call's answer is held whole in hostd until the client
// has read it (a download is ~30 MB on its way out), so calls that never get read, or a batch
// of forty downloads, held gigabytes (outside tester tj: 2.4 GB from one 5 KB batch). A call
// past the key's slots waits, unread, until one of its earlier answers has been taken.

export const MCP_CALLS_PER_KEY = 4;

export class OwnerSlots {
  readonly #perOwner: number;
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(perOwner = MCP_CALLS_PER_KEY) {
    this.#perOwner = perOwner;
  }

  /** Resolves with the release once the owner has a free slot; `signal` abandons the wait. */
  acquire(owner: string, signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        this.#active.set(owner, (this.#active.get(owner) ?? 0) + 1);
        let held = true;
        resolve(() => {
          if (!held) return;
          held = false;
          this.#release(owner);
        });
      };
      if ((this.#active.get(owner) ?? 0) < this.#perOwner) return grant();
      const queue = this.#waiting.get(owner) ?? [];
      this.#waiting.set(owner, queue);
      const turn = (): void => {
        signal.removeEventListener("abort", abandon);
        grant();
      };
      const abandon = (): void => {
        const i = queue.indexOf(turn);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && this.#waiting.get(owner) === queue) this.#waiting.delete(owner);
        reject(new Error("the client went away while its call waited"));
      };
      if (signal.aborted) return abandon();
      signal.addEventListener("abort", abandon, { once: true });
      queue.push(turn);
    });
  }

  /** Calls waiting for a slot now, every owner's together (hostd's /metrics). */
  waiting(): number {
    let n = 0;
    for (const queue of this.#waiting.values()) n += queue.length;
    return n;
  }

  #release(owner: string): void {
    const n = (this.#active.get(owner) ?? 1) - 1;
    if (n > 0) this.#active.set(owner, n);
    else this.#active.delete(owner);
    const queue = this.#waiting.get(owner);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.#waiting.delete(owner);
    next?.();
  }
}
