// Where a Sandbox object stands: open, or closed in one of three ways, each with its own
// message saying how to carry on.

import { SandboxClosedError } from "./errors.js";

export type Lifecycle = { state: "open" } | { state: "closed" } | { state: "merged"; into: string } | { state: "frozen"; spaceId: string };

/** The error for a call on a sandbox object that is no longer open. */
export function closedError(id: string, life: Exclude<Lifecycle, { state: "open" }>): SandboxClosedError {
  if (life.state === "merged") {
    return new SandboxClosedError(`sandbox ${id} was merged into ${life.into}; use that sandbox's object`);
  }
  if (life.state === "frozen") {
    return new SandboxClosedError(`sandbox ${id} was frozen into Space ${life.spaceId}; continue with Sandbox.resume("${life.spaceId}")`);
  }
  return new SandboxClosedError(`sandbox ${id} is closed; create a new one with Sandbox.create()`);
}
