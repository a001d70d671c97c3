import { test } from "node:test";
import assert from "node:assert/strict";
import { nestsDeeperThan } from "./json-depth.js";

const enc = (s: string) => Buffer.from(s, "utf8");

test("depth counts objects and arrays, not brackets inside strings (escaped quotes included)", () => {
  assert.equal(nestsDeeperThan(enc('{"a":[1,{"b":[]}]}'), 4), false);
  assert.equal(nestsDeeperThan(enc('{"a":[1,{"b":[]}]}'), 3), true);
  assert.equal(nestsDeeperThan(enc('{"s":"[[[[[[[[[[{{{{{{"}'), 1), false);
  assert.equal(nestsDeeperThan(enc('{"s":"\\\\"}'), 1), false, "an escaped backslash ends before the quote");
  assert.equal(nestsDeeperThan(enc('{"s":"\\"[[[["}'), 1), false, "an escaped quote does not end the string");
  assert.equal(nestsDeeperThan(enc(`${"[".repeat(65)}${"]".repeat(65)}`), 64), true);
  assert.equal(nestsDeeperThan(enc(`${"[".repeat(64)}${"]".repeat(64)}`), 64), false);
  assert.equal(nestsDeeperThan(enc(""), 64), false);
});
