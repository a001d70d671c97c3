import assert from "node:assert/strict";
import { test } from "node:test";
import { within } from "./within.js";

test("a region of a fan-out answers in time or counts as missing", async () => {
  assert.equal(await within(Promise.resolve("list"), 1000), "list");
  const hung = new Promise<string>(() => undefined);
  const alive = setInterval(() => undefined, 5); // the deadline's timer is unref'd, as in the edge
  try {
    const started = Date.now();
    assert.equal(await within(hung, 30), undefined);
    assert.ok(Date.now() - started < 1000);
  } finally {
    clearInterval(alive);
  }
});
