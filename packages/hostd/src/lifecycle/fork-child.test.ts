// What a fork child inherits.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedLimits } from "@podflare/protocol";
import { childLifetimes, mergedLifetimes, remainingLifetimeS } from "./fork-child.js";

test("a fork child gets what is left of its parent's lifetime in whole seconds, never more; 0 under a second", () => {
  const parent = { createdAt: 1_000_000, applied: { max_lifetime_s: 60 } as AppliedLimits };
  assert.equal(remainingLifetimeS(parent, 1_000_000), 60);
  assert.equal(remainingLifetimeS(parent, 1_000_001), 59);
  assert.equal(remainingLifetimeS(parent, 1_001_000), 59);
  assert.equal(remainingLifetimeS(parent, 1_059_000), 1);
  assert.equal(remainingLifetimeS(parent, 1_059_500), 0);
  assert.equal(remainingLifetimeS(parent, 2_000_000), 0);
});

test("a parent whose lifetime_s ends it sooner: its child gets what is left of that, not of max_lifetime_s", () => {
  const parent = { createdAt: 1_000_000, applied: { max_lifetime_s: 3600, lifetime_s: 30 } as AppliedLimits };
  assert.equal(remainingLifetimeS(parent, 1_010_000), 20);
  assert.equal(remainingLifetimeS({ ...parent, applied: { max_lifetime_s: 20, lifetime_s: 30 } as AppliedLimits }, 1_000_000), 20);
});

test("a fork child ends when its parent would, and can be moved up to what is left of the parent's max_lifetime_s, no further", () => {
  const parent = { createdAt: 1_000_000, applied: { max_lifetime_s: 3600, lifetime_s: 30 } as AppliedLimits };
  assert.deepEqual(childLifetimes(parent, 1_010_000), { max_lifetime_s: 3590, lifetime_s: 20 });
  assert.deepEqual(childLifetimes({ ...parent, applied: { max_lifetime_s: 60 } as AppliedLimits }, 1_010_500), { max_lifetime_s: 49 });
  assert.deepEqual(childLifetimes({ ...parent, applied: { max_lifetime_s: 60, lifetime_s: 60 } as AppliedLimits }, 1_010_000), { max_lifetime_s: 50 });
  assert.deepEqual(childLifetimes({ ...parent, applied: { max_lifetime_s: 20, lifetime_s: 30 } as AppliedLimits }, 1_000_000), { max_lifetime_s: 20 });
});

test("a merge keeps the parent's max_lifetime_s and carries the winner's end into the parent's count (a merge cut the parent's lifetime)", () => {
  const parent = { createdAt: 1_000_000, applied: { max_lifetime_s: 90 } as AppliedLimits };
  const child = { createdAt: 1_030_000, applied: { max_lifetime_s: 59 } as AppliedLimits };
  assert.deepEqual(mergedLifetimes(parent, child), { max_lifetime_s: 90 });
  assert.deepEqual(mergedLifetimes(parent, { ...child, applied: { max_lifetime_s: 59, lifetime_s: 20 } as AppliedLimits }), { max_lifetime_s: 90, lifetime_s: 50 });
  assert.deepEqual(mergedLifetimes(parent, { ...child, applied: { max_lifetime_s: 59, lifetime_s: 59 } as AppliedLimits }), { max_lifetime_s: 90 });
});
