// What a fork child inherits.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedLimits } from "@podflare/protocol";
import { remainingLifetimeS } from "./fork-child.js";

test("a fork child gets what is left of its parent's lifetime in whole seconds, never more; 0 under a second", () => {
  const parent = { createdAt: 1_000_000, applied: { max_lifetime_s: 60 } as AppliedLimits };
  assert.equal(remainingLifetimeS(parent, 1_000_000), 60);
  assert.equal(remainingLifetimeS(parent, 1_000_001), 59);
  assert.equal(remainingLifetimeS(parent, 1_001_000), 59);
  assert.equal(remainingLifetimeS(parent, 1_059_000), 1);
  assert.equal(remainingLifetimeS(parent, 1_059_500), 0);
  assert.equal(remainingLifetimeS(parent, 2_000_000), 0);
});
