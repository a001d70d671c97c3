// Bytes the edge holds for merged lists (lists.ts): each region's answer is read whole to be
// merged, and the merged answer sits in memory until the caller reads it. Callers that asked
// and never read grew the edge by the list's size per connection (outside tester th: 992
// stalled GETs of a 103 KB list, +67 MB). Each caller (its key, else its address) may hold
// PER_CALLER_BYTES at once and all together TOTAL_BYTES; a list past either is answered 429.
import type http from "node:http";
import { PodflareError, callerOf } from "@podflare/protocol";

const MB = 1024 * 1024;
export const PER_CALLER_BYTES = 16 * MB;
export const TOTAL_BYTES = 256 * MB;

export class ListBytes {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perCallerBytes = PER_CALLER_BYTES,
    readonly totalBytes = TOTAL_BYTES,
  ) {}

  /** Counts `n` more bytes for `caller`; throws the 429 when that is past a budget. */
  take(caller: string, n: number): void {
    const mine = (this.held.get(caller) ?? 0) + n;
    if (mine > this.perCallerBytes || this.total + n > this.totalBytes) {
      throw new PodflareError(
        "concurrency_limit",
        mine > this.perCallerBytes
          ? `this key has ${Math.round(this.perCallerBytes / MB)} MB of merged lists waiting to be read; read the answers it asked for, or ask one region (X-Podflare-Region)`
          : `the edge holds ${Math.round(this.totalBytes / MB)} MB of merged lists at once; retry in a moment, or ask one region (X-Podflare-Region)`,
        { "retry-after": "1" },
      );
    }
    this.held.set(caller, mine);
    this.total += n;
  }

  give(caller: string, n: number): void {
    if (n <= 0) return;
    const left = (this.held.get(caller) ?? 0) - n;
    if (left > 0) this.held.set(caller, left);
    else this.held.delete(caller);
    this.total -= n;
  }

  heldBytes(): number {
    return this.total;
  }
}

/** Who asks for a list (of /v1/: a Bearer key, as hostd reads it; never logged), else its address. */
export function listCaller(req: http.IncomingMessage): string {
  return callerOf({ authorization: req.headers.authorization }, false) ?? `peer ${req.socket.remoteAddress ?? "?"}`;
}
