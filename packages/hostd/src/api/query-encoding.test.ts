// The query's percent-encoding check (pure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { badQueryPart } from "./query-encoding.js";

test("a query with a bad percent-sequence is found; good ones, + and plain text pass", () => {
  assert.equal(badQueryPart(""), undefined);
  assert.equal(badQueryPart("?path=/root/a%20b+c&depth=2"), undefined);
  assert.equal(badQueryPart("?path=%E2%9C%93"), undefined);
  assert.equal(badQueryPart("?path=/etc/%ff"), "/etc/%ff");
  assert.equal(badQueryPart("?path=%E0%A4%A"), "%E0%A4%A");
  assert.equal(badQueryPart("?path=%ED%A0%80"), "%ED%A0%80", "a lone surrogate is not UTF-8");
  assert.equal(badQueryPart("?metadata=%ZZ"), "%ZZ");
  assert.equal(badQueryPart("?a%ff=1"), "a%ff", "names too");
});
