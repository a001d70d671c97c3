// The network check a GET /v1/sandboxes/:id starts for its sandbox (puts back router rules or a
// link that drifted away). The answer does not wait for it: the check spawns nft and ip, about
// 6 ms, which a read should not cost. One runs at a time per sandbox, and at most one starts
// per MIN_INTERVAL_MS, so a client polling GET cannot turn its reads into process spawns.
import type { RuntimeSandbox } from "../runtime/types.js";

const MIN_INTERVAL_MS = 1000;

export class NetworkChecks {
  /** Per live sandbox (a WeakMap: nothing to clean up when it closes). */
  private readonly lastStartMs = new WeakMap<object, number>();
  private readonly running = new WeakSet<object>();

  constructor(
    private readonly check: ((rt: RuntimeSandbox) => Promise<void>) | undefined,
    private readonly nowMs: () => number,
    private readonly log: (msg: string) => void,
  ) {}

  /** Starts a check of `rt` unless one runs or one started within MIN_INTERVAL_MS. */
  start(sandbox: object, id: string, rt: RuntimeSandbox): void {
    const check = this.check;
    if (!check || this.running.has(sandbox)) return;
    const now = this.nowMs();
    if (now - (this.lastStartMs.get(sandbox) ?? -Infinity) < MIN_INTERVAL_MS) return;
    this.lastStartMs.set(sandbox, now);
    this.running.add(sandbox);
    void check(rt)
      .catch((e: Error) => this.log(`network check of ${id} failed: ${e.message}`))
      .finally(() => this.running.delete(sandbox));
  }
}
