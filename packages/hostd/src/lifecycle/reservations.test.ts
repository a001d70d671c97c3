// Concurrency-cap reservations: pure logic, no hostd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { Reservations, type Caps } from "./reservations.js";

const live = new Map<string, number>();
const slots = new Reservations((owner) => (owner === undefined ? [...live.values()].reduce((a, b) => a + b, 0) : (live.get(owner) ?? 0)));
const caps = (owner: number, host = 100): Caps => ({
  owner: { max: owner, refuse: (n) => `owner cap ${owner} (running ${n})` },
  host: { max: host, refuse: (n) => `host cap ${host} (running ${n})` },
});
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PodflareError);
    assert.equal(err.code, "concurrency_limit");
    assert.equal(err.status, 429);
    assert.equal(err.headers["Retry-After"], "1");
    return err.message;
  }
  assert.fail("not refused");
};

test("reservations count toward the cap at once: the 11th of 10 is refused without any await", () => {
  const held = Array.from({ length: 10 }, () => slots.reserve("a", 1, caps(10)));
  assert.equal(slots.ownedBy("a"), 10);
  assert.equal(slots.pending, 10);
  assert.equal(refusal(() => slots.reserve("a", 1, caps(10))), "owner cap 10 (running 10)");
  // Another owner has its own count.
  slots.reserve("b", 1, caps(10)).release();
  for (const r of held) r.release();
  assert.equal(slots.ownedBy("a"), 0);
  assert.equal(slots.pending, 0);
});

test("n slots are all or nothing; live sandboxes count; release is idempotent", () => {
  live.set("a", 7);
  assert.match(refusal(() => slots.reserve("a", 4, caps(10))), /running 7/);
  assert.equal(slots.ownedBy("a"), 7, "a refused reservation took part of its slots");
  const r = slots.reserve("a", 3, caps(10));
  assert.equal(slots.ownedBy("a"), 10);
  r.release();
  r.release();
  assert.equal(slots.ownedBy("a"), 7);
  live.clear();
});

test("the host cap counts every owner's live and reserved sandboxes", () => {
  live.set("x", 3);
  const r = slots.reserve("y", 1, caps(10, 5));
  assert.equal(refusal(() => slots.reserve("z", 2, caps(10, 5))), "host cap 5 (running 4)");
  const last = slots.reserve("z", 1, caps(10, 5));
  r.release();
  last.release();
  live.clear();
});
