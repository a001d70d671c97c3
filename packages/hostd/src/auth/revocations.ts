// What a revoked key still had: its open connections are closed and its sandboxes closed, at
// once for a revocation through the API, and within `everyMs` for one made by another process
// (`podflare keys revoke` writes the store directly). Nobody can reach a revoked key's sandboxes
// any more, so leaving them would only leave its processes running (docs/api.md, "Keys").
import type { Duplex } from "node:stream";
import type { OpenCalls } from "./open-calls.js";

export interface RevocationOptions {
  /** The ids of every revoked key (keys.ts). */
  revokedIds(): string[];
  calls: OpenCalls;
  /** Closes the owner's live sandboxes; resolves with how many. */
  closeSandboxesOf(owner: string): Promise<number>;
  log(msg: string): void;
  everyMs: number;
}

export class Revocations {
  private readonly handled = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RevocationOptions) {}

  /** Handles the keys revoked so far (also while hostd was down), then watches for more. */
  start(): void {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.opts.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Whether the owner's key is known revoked (through the API, or seen by a sweep). */
  isRevoked(owner: string): boolean {
    return this.handled.has(owner);
  }

  /** A key revoked through this hostd's API (by `by`, which stays open to answer): handled now, not at the next sweep. */
  revoked(owner: string, by?: Duplex): Promise<void> {
    this.handled.add(owner);
    return this.end(owner, by);
  }

  private sweep(): void {
    let ids: string[];
    try {
      ids = this.opts.revokedIds();
    } catch (err) {
      this.opts.log(`revocations: cannot read the revoked keys: ${(err as Error).message}`);
      return;
    }
    for (const id of ids) {
      if (this.handled.has(id)) continue;
      this.handled.add(id);
      void this.end(id);
    }
  }

  private async end(owner: string, except?: Duplex): Promise<void> {
    const connections = this.opts.calls.closeAll(owner, except);
    const sandboxes = await this.opts.closeSandboxesOf(owner).catch((err: unknown) => {
      this.opts.log(`revocations: closing the sandboxes of revoked key ${owner} failed: ${(err as Error).message}`);
      return 0;
    });
    if (connections + sandboxes > 0) this.opts.log(`key ${owner} revoked: closed ${connections} open connection(s) and ${sandboxes} sandbox(es)`);
  }
}
