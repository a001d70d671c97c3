import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiter } from "./rate-limit.js";

test("rate limit: a burst passes, then the rate; buckets are per key", () => {
  let now = 0;
  const rl = new RateLimiter({ perSecond: 10, burst: 20, nowMs: () => now });
  let passed = 0;
  for (let i = 0; i < 100; i++) if (rl.take("a")) passed++;
  assert.equal(passed, 20);
  assert.equal(rl.take("b"), true, "another sandbox has its own bucket");
  now += 500; // 5 tokens
  passed = 0;
  for (let i = 0; i < 100; i++) if (rl.take("a")) passed++;
  assert.equal(passed, 5);
  now += 60_000;
  passed = 0;
  for (let i = 0; i < 100; i++) if (rl.take("a")) passed++;
  assert.equal(passed, 20, "a quiet spell refills up to the burst, not beyond");
});

test("rate limit: the key count is bounded", () => {
  const rl = new RateLimiter({ perSecond: 1, burst: 1, maxKeys: 2, nowMs: () => 0 });
  assert.equal(rl.take("a"), true);
  assert.equal(rl.take("b"), true);
  assert.equal(rl.take("c"), true);
  assert.equal(rl.take("a"), true, "a was forgotten to make room for c");
});
