import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestPacer } from "./request-pacer.js";

test("a burst goes at once; past it each request waits its turn at the rate; one key's wait is not another's", () => {
  let t = 0;
  const p = new RequestPacer(100, 3, () => t);
  assert.deepEqual([p.delayMs("a"), p.delayMs("a"), p.delayMs("a")], [0, 0, 0]);
  assert.equal(p.delayMs("a"), 10, "the fourth waits one token's time (10 ms at 100/s)");
  assert.equal(p.delayMs("a"), 20, "the fifth queues behind it");
  assert.equal(p.delayMs("b"), 0, "another key has its own bucket");
  t = 1000; // a second later: refilled to the burst, no more
  assert.deepEqual([p.delayMs("a"), p.delayMs("a"), p.delayMs("a"), p.delayMs("a")], [0, 0, 0, 10]);
});

test("a take of n tokens (bytes of output) owes what it lacks: the wait is what is owed at the rate", () => {
  let t = 0;
  const p = new RequestPacer(1000, 4000, () => t);
  assert.equal(p.delayMs("a", 4000), 0, "the burst at once");
  assert.equal(p.delayMs("a", 500), 500, "500 owed at 1000 a second");
  t = 500;
  assert.equal(p.delayMs("a", 1000), 1000, "repaid, then 1000 more owed");
});
