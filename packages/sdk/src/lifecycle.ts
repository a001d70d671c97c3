// Where a Sandbox object stands: open, or closed in one of three ways, each with its own
// message saying how to carry on; and the one DELETE that closes it, shared by concurrent
// close() calls.

import { SandboxClosedError, SandboxNotFoundError } from "./errors.js";

export type Lifecycle = { state: "open" } | { state: "closed" } | { state: "merged"; into: string } | { state: "frozen"; spaceId: string };

export class SandboxLife {
  #life: Lifecycle = { state: "open" };
  #closing: Promise<void> | undefined;

  constructor(private readonly id: string) {}

  get isOpen(): boolean {
    return this.#life.state === "open";
  }

  mergedInto(into: string): void {
    this.#life = { state: "merged", into };
  }

  frozen(spaceId: string): void {
    this.#life = { state: "frozen", spaceId };
  }

  /** Throws SandboxClosedError, saying how to carry on, unless the object is open. */
  assertOpen(): void {
    const life = this.#life;
    if (life.state === "open") return;
    if (life.state === "merged") {
      throw new SandboxClosedError(`sandbox ${this.id} was merged into ${life.into}; use that sandbox's object`);
    }
    if (life.state === "frozen") {
      throw new SandboxClosedError(`sandbox ${this.id} was frozen into Space ${life.spaceId}; continue with Sandbox.resume("${life.spaceId}")`);
    }
    throw new SandboxClosedError(`sandbox ${this.id} is closed; create a new one with Sandbox.create()`);
  }

  /** Runs `destroy` once (a failed one may be retried); a sandbox the server no longer has counts as closed. */
  close(destroy: () => Promise<unknown>): Promise<void> {
    if (this.#life.state !== "open") return Promise.resolve();
    this.#closing ??= destroy().then(
      () => {
        this.#life = { state: "closed" };
      },
      (err: unknown) => {
        this.#closing = undefined;
        if (err instanceof SandboxNotFoundError) {
          this.#life = { state: "closed" };
          return;
        }
        throw err;
      },
    );
    return this.#closing;
  }
}
