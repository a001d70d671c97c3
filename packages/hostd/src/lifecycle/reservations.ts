// Slots for sandboxes being made (create, fork, Space resume), counted per owner and per host.
// A cap is checked and its slot taken in one synchronous step, so two racing requests can never
// both pass a cap with one slot left; the slot is given back once the sandbox is live (counted
// there instead) or its making failed.
import { PodflareError } from "@podflare/protocol";

export interface Reservation {
  /** Gives the slots back; safe to call twice. */
  release(): void;
}

export interface Caps {
  /** What the owner's tier allows at once, and the refusal naming it. */
  owner: { max: number; refuse: (running: number) => string };
  /** What the host allows at once. */
  host: { max: number; refuse: (running: number) => string };
}

export class Reservations {
  private readonly byOwner = new Map<string, number>();
  private total = 0;

  /** `live(owner)`: the owner's live sandboxes; `live()`: every live sandbox on the host. */
  constructor(private readonly live: (owner?: string) => number) {}

  /** Sandboxes being made now, by anyone (the warm pool waits for user creates). */
  get pending(): number {
    return this.total;
  }

  /** Live and reserved: what a tier's concurrency cap counts. */
  ownedBy(owner: string): number {
    return this.live(owner) + (this.byOwner.get(owner) ?? 0);
  }

  /** n slots for the owner, all or none: throws 429 concurrency_limit naming the cap. */
  reserve(owner: string, n: number, caps: Caps): Reservation {
    const owned = this.ownedBy(owner);
    if (owned + n > caps.owner.max) {
      throw new PodflareError("concurrency_limit", caps.owner.refuse(owned), { "Retry-After": "1" });
    }
    const onHost = this.live() + this.total;
    if (onHost + n > caps.host.max) {
      throw new PodflareError("concurrency_limit", caps.host.refuse(onHost), { "Retry-After": "1" });
    }
    this.byOwner.set(owner, (this.byOwner.get(owner) ?? 0) + n);
    this.total += n;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.total -= n;
        const left = this.byOwner.get(owner)! - n;
        if (left === 0) this.byOwner.delete(owner);
        else this.byOwner.set(owner, left);
      },
    };
  }
}
