// The default warm-pool size (pure arithmetic on the host's memory).
import { test } from "node:test";
import assert from "node:assert/strict";
import { poolSizeFor } from "./config.js";

test("the default pool holds 1% of memory at ~4 MB a spawned sandbox (2 to 64), or at ~30 MB a cold-booted one (2 to 32)", () => {
  assert.equal(poolSizeFor(24 * 1024, true), 61);
  assert.equal(poolSizeFor(8 * 1024, true), 20);
  assert.equal(poolSizeFor(512, true), 2, "a small host still keeps two");
  assert.equal(poolSizeFor(256 * 1024, true), 64, "a big host stops at 64");
  assert.equal(poolSizeFor(24 * 1024, false), 8);
  assert.equal(poolSizeFor(512 * 1024, false), 32);
});
