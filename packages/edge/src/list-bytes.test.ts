import { test } from "node:test";
import assert from "node:assert/strict";
import { ListBytes } from "./list-bytes.js";

test("merged-list bytes: a caller past its share gets 429, others still fit; the host total holds too; giving back frees", () => {
  const b = new ListBytes(100, 150);
  b.take("a", 60);
  assert.throws(() => b.take("a", 41), (e: Error & { code?: string }) => e.code === "concurrency_limit" && /waiting to be read/.test(e.message));
  b.take("b", 80);
  assert.throws(() => b.take("c", 20), /the edge holds/);
  b.give("a", 60);
  b.take("c", 20);
  assert.equal(b.heldBytes(), 100);
});
