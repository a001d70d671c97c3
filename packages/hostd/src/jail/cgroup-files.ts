// Small helpers every cgroup module uses: reading and writing control files, parsing their
// "key value" lines, and the poll between checks of a state the kernel settles in its own time.
import { readFileSync, writeFileSync } from "node:fs";

/** How long to wait between looks at a group that is still freezing, emptying or going. */
export const SETTLE_POLL_MS = 5;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function readText(file: string): string {
  return readFileSync(file, "utf8");
}

export function write(file: string, value: string): void {
  writeFileSync(file, value);
}

/** A "key value" line from files like memory.events or memory.oom_control. */
export function keyed(text: string, key: string): number {
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return 0;
}
