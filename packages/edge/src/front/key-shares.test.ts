import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyShares } from "./key-shares.js";

test("a key holds at most its share; others are unaffected; leaving frees a place", () => {
  const s = new KeyShares(2);
  assert.equal(s.enter("a"), true);
  assert.equal(s.enter("a"), true);
  assert.equal(s.enter("a"), false);
  assert.equal(s.enter("b"), true);
  s.leave("a");
  assert.equal(s.enter("a"), true);
  s.leave("a");
  s.leave("a");
  assert.equal(s.count("a"), 0);
  s.leave("a"); // never below zero
  assert.equal(s.count("a"), 0);
});
