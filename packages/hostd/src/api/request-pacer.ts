// Requests a second per key. Without a limit, a client that pipelined 20,000 GETs on each of 50
// connections (and never read the answers) had hostd answer them as fast as it could: other
// tenants' calls waited up to 3.7 s (outside tester). Each key (not the local caller) gets a
// token bucket; a request past it waits, and its connection stops being read meanwhile, so
// pipelined requests stay in the caller's socket, not in hostd's memory. Other keys go on.
import type { IncomingMessage } from "node:http";

interface Bucket {
  tokens: number;
  at: number;
}

export class RequestPacer {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes n tokens for `owner`: 0 when they were there, else how many ms until what is owed is. */
  delayMs(owner: string, n = 1): number {
    const t = this.now();
    let b = this.buckets.get(owner);
    if (!b) {
      if (this.buckets.size > 10_000) this.prune(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(owner, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) * this.perSecond) / 1000);
    b.at = t;
    b.tokens -= n; // taken now, or owed: a request waiting counts against the next ones
    return b.tokens >= 0 ? 0 : Math.ceil((-b.tokens * 1000) / this.perSecond);
  }

  /** Buckets that have refilled are the same as none. */
  private prune(t: number): void {
    for (const [owner, b] of this.buckets) {
      if (b.tokens + ((t - b.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(owner);
    }
  }
}

/** Requests of each connection waiting out a delay now: it is read again when none is. */
const waiting = new WeakMap<object, number>();

/**
 * Waits out `owner`'s delay with `req`'s connection not read meanwhile: Node would otherwise
 * parse every pipelined request behind it at once, each to wait here in hostd's memory.
 */
export async function paced(pacer: RequestPacer | undefined, owner: string, req: IncomingMessage): Promise<void> {
  const ms = pacer?.delayMs(owner) ?? 0;
  if (ms <= 0) return;
  const socket = req.socket as IncomingMessage["socket"] & { _paused?: boolean };
  waiting.set(socket, (waiting.get(socket) ?? 0) + 1);
  socket.pause();
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    const left = (waiting.get(socket) ?? 1) - 1;
    waiting.set(socket, left);
    // Node pauses a connection itself while its answers wait to be written (_paused), and
    // resumes it when they are: not ours to undo.
    if (left === 0 && !socket._paused && !socket.destroyed) socket.resume();
  }
}

let shared: RequestPacer | undefined;

/** The pacer every authenticated call goes through (hostd sets it from its config at start). */
export function requestPacer(): RequestPacer | undefined {
  return shared;
}

export function setRequestPacer(pacer: RequestPacer | undefined): void {
  shared = pacer;
}
