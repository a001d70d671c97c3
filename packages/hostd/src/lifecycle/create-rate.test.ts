// The per-owner start rate: pure logic, a clock of the test's own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { tiers } from "../auth/tiers.js";
import { CreateRate } from "./create-rate.js";

const refused = (fn: () => unknown): PodflareError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PodflareError);
    assert.equal(err.code, "rate_limited");
    assert.equal(err.status, 429);
    return err;
  }
  assert.fail("not refused");
};

test("a free owner starts its burst at once, then at its rate; Retry-After says when", () => {
  let now = 0;
  const rate = new CreateRate(() => now);
  const { createBurst, createsPerS } = tiers.free;
  for (let i = 0; i < createBurst; i++) rate.take("a", 1, "free", "this create");
  const err = refused(() => rate.take("a", 1, "free", "this create"));
  assert.equal(err.headers["Retry-After"], "1");
  assert.match(err.message, /free tier allows \(2 a second, 30 at once after a quiet spell\); retry in 1 s/);
  now += 1000 / createsPerS;
  rate.take("a", 1, "free", "this create");
  refused(() => rate.take("a", 1, "free", "this create"));
});

test("owners have buckets of their own", () => {
  const rate = new CreateRate(() => 0);
  for (let i = 0; i < tiers.free.createBurst; i++) rate.take("a", 1, "free", "x");
  refused(() => rate.take("a", 1, "free", "x"));
  rate.take("b", 1, "free", "x");
});

test("a fork takes all its children's starts or none; the bucket refills to its burst, never past it", () => {
  let now = 0;
  const rate = new CreateRate(() => now);
  for (let i = 0; i < tiers.free.createBurst - 3; i++) rate.take("a", 1, "free", "x");
  const err = refused(() => rate.take("a", 5, "free", "fork of 5"));
  assert.match(err.message, /^fork of 5 would start/);
  assert.equal(err.headers["Retry-After"], "1"); // 2 more at 2 a second
  rate.take("a", 3, "free", "fork of 3"); // the refusal took nothing
  refused(() => rate.take("a", 1, "free", "x"));
  now += 60_000;
  rate.take("a", tiers.free.createBurst, "free", "x"); // refilled to the burst, never past it
  refused(() => rate.take("a", 1, "free", "x"));
});

test("the tier is read at each start: a key moved up gets the new rate and burst", () => {
  let now = 0;
  const rate = new CreateRate(() => now);
  for (let i = 0; i < tiers.free.createBurst; i++) rate.take("a", 1, "free", "x");
  refused(() => rate.take("a", 1, "free", "x"));
  now += 1000;
  for (let i = 0; i < tiers.pro.createsPerS; i++) rate.take("a", 1, "pro", "x");
  refused(() => rate.take("a", 1, "pro", "x"));
});
