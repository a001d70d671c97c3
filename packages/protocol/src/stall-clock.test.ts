import { test } from "node:test";
import assert from "node:assert/strict";
import { StallClock } from "./stall-clock.js";

test("a stall is timed across consecutive looks: expired at the idle timeout, not twice it", () => {
  const c = new StallClock<object>(1000);
  assert.equal(c.lookMs, 250);
  const s = {};
  // Node's first timeout came late (skipped once): the stall counts from one look before.
  assert.equal(c.expired(s, true, 10_500), false);
  assert.equal(c.expired(s, true, 10_750), false);
  assert.equal(c.expired(s, true, 11_000), false);
  assert.equal(c.expired(s, true, 11_250), true);
});

test("progress (not stalled, or a look put off) starts the stall again", () => {
  const c = new StallClock<object>(1000);
  const s = {};
  c.expired(s, true, 0);
  c.expired(s, true, 250);
  assert.equal(c.expired(s, false, 500), false);
  assert.equal(c.expired(s, true, 750), false);
  assert.equal(c.expired(s, true, 1000), false);
  // Next look 600 ms later: Node put it off, so something moved; from there again.
  assert.equal(c.expired(s, true, 1600), false);
  assert.equal(c.expired(s, true, 1850), false);
  assert.equal(c.expired(s, true, 2100), false);
  assert.equal(c.expired(s, true, 2350), true);
});
