// Request bodies hostd holds in memory at once. A JSON body is read whole before it is parsed
// (up to limits.maxJsonBytes, 17 MiB, for an exec's code): an outside tester had hostd hold
// 1.7 GB with 100 connections each sending all but the last byte of a 17 MiB body, from one key
// (and RSS stayed there). Each owner (the authenticated key; before auth, the peer address) may
// hold PODFLARE_HTTP_BODY_MB_PER_KEY at once, and all together PODFLARE_HTTP_BODY_MB; a body
// past either is refused with 429 and its connection closed.
import type { IncomingMessage } from "node:http";
import { PodflareError } from "@podflare/protocol";

const MB = 1024 * 1024;
const owners = new WeakMap<IncomingMessage, string>();

/** The authenticated owner of a request (server.ts, the E2B layer): its bodies count as its own. */
export function noteRequestOwner(req: IncomingMessage, owner: string): void {
  owners.set(req, owner);
}

export class BodyBudget {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perOwnerBytes: number,
    readonly totalBytes: number,
  ) {}

  /** Counts `n` more bytes of `req`'s body; throws 429 when its owner or the host is past its budget. */
  take(req: IncomingMessage, n: number): void {
    const who = ownerOf(req);
    const mine = (this.held.get(who) ?? 0) + n;
    if (mine > this.perOwnerBytes) {
      throw new PodflareError("concurrency_limit", `too many request bodies in flight for this key at once (over ${Math.round(this.perOwnerBytes / MB)} MB together); send fewer large requests at once, and retry`, { "retry-after": "1" });
    }
    if (this.total + n > this.totalBytes) {
      throw new PodflareError("concurrency_limit", `hostd is holding too many request bodies at once (over ${Math.round(this.totalBytes / MB)} MB); retry in a moment`, { "retry-after": "1" });
    }
    this.held.set(who, mine);
    this.total += n;
  }

  /** Gives back what `take` counted for `req`. */
  give(req: IncomingMessage, n: number): void {
    if (n <= 0) return;
    const who = ownerOf(req);
    const left = (this.held.get(who) ?? 0) - n;
    if (left > 0) this.held.set(who, left);
    else this.held.delete(who);
    this.total -= n;
  }

  /** Bytes held now (tests, metrics). */
  heldBytes(): number {
    return this.total;
  }
}

function ownerOf(req: IncomingMessage): string {
  return owners.get(req) ?? `peer ${req.socket?.remoteAddress ?? "?"}`;
}

let shared = new BodyBudget(64 * MB, 256 * MB);

/** The budget readJsonBody counts against (hostd sets it from its config at start). */
export function bodyBudget(): BodyBudget {
  return shared;
}

export function setBodyBudget(budget: BodyBudget): void {
  shared = budget;
}
