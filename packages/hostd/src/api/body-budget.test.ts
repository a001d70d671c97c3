import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { PodflareError } from "@podflare/protocol";
import { BodyBudget, noteRequestOwner } from "./body-budget.js";

const req = (owner?: string, peer = "127.0.0.1"): IncomingMessage => {
  const r = { socket: { remoteAddress: peer } } as unknown as IncomingMessage;
  if (owner) noteRequestOwner(r, owner);
  return r;
};

test("each owner holds at most its share; others are not held by it; given back, it may take again", () => {
  const b = new BodyBudget(100, 1000);
  const a1 = req("key_a");
  const a2 = req("key_a");
  const other = req("key_b");
  b.take(a1, 60);
  assert.throws(() => b.take(a2, 50), (e: unknown) => e instanceof PodflareError && e.status === 429 && /for this key/.test(e.message));
  b.take(other, 90);
  b.give(a1, 60);
  b.take(a2, 100);
  assert.equal(b.heldBytes(), 190);
});

test("the host's total binds too; before auth a body counts as its peer address's", () => {
  const b = new BodyBudget(100, 150);
  b.take(req("key_a"), 100);
  assert.throws(() => b.take(req("key_b"), 60), /hostd is holding too many request bodies/);
  const anon1 = req(undefined, "10.0.0.1");
  b.take(anon1, 50);
  assert.equal(b.heldBytes(), 150);
  b.give(anon1, 50);
  assert.equal(b.heldBytes(), 100);
});
