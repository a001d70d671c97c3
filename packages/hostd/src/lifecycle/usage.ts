// Usage per owner: sandbox-seconds, GB-seconds of memory, execs and forks. Finished sandboxes
// are added when they close; running ones are added on read, so a reading is always current.
import type { UsageReport } from "@podflare/protocol";
import type { UsageTable } from "../store/store.js";

export type { UsageReport };

export interface RunningSandbox {
  createdAt: number;
  memoryMb: number;
}

export class UsageStore {
  constructor(private readonly table: UsageTable) {}

  sandboxCreated(owner: string): void {
    this.table.add(owner, { sandboxes_created: 1 });
  }

  sandboxClosed(owner: string, s: RunningSandbox, at = Date.now()): void {
    const seconds = Math.max(0, (at - s.createdAt) / 1000);
    this.table.add(owner, { sandbox_seconds: seconds, gb_seconds: (seconds * s.memoryMb) / 1024 });
  }

  exec(owner: string): void {
    this.table.add(owner, { execs: 1 });
  }

  forks(owner: string, n: number): void {
    this.table.add(owner, { forks: n });
  }

  /** Every owner with recorded usage (metrics report each). */
  owners(): string[] {
    return this.table.owners();
  }

  report(owner: string, running: RunningSandbox[], at = Date.now()): UsageReport {
    const row = this.table.get(owner) ?? { sandboxes_created: 0, sandbox_seconds: 0, gb_seconds: 0, execs: 0, forks: 0 };
    let seconds = row.sandbox_seconds;
    let gbs = row.gb_seconds;
    for (const s of running) {
      const live = Math.max(0, (at - s.createdAt) / 1000);
      seconds += live;
      gbs += (live * s.memoryMb) / 1024;
    }
    return { owner, ...row, sandbox_seconds: Math.round(seconds * 1000) / 1000, gb_seconds: Math.round(gbs * 1000) / 1000 };
  }
}
