// The safety net's policy: log and keep serving, exit on a burst.
import { test } from "node:test";
import assert from "node:assert/strict";
import { errorPolicy } from "./safety-net.js";

test("an uncaught error is logged and survived; a burst of them exits", () => {
  const logs: string[] = [];
  const exits: number[] = [];
  let t = 0;
  const policy = errorPolicy({ log: (m) => logs.push(m), exit: (c) => exits.push(c), maxPerMinute: 2, now: () => t });
  policy("uncaught exception", new Error("one request broke"));
  assert.match(logs[0]!, /uncaught exception \(kept serving.*one request broke/s);
  assert.deepEqual(exits, []);
  t += 61_000; // an old error no longer counts
  policy("uncaught exception", new Error("two"));
  policy("unhandled rejection", new Error("three"));
  assert.deepEqual(exits, []);
  policy("uncaught exception", new Error("four"));
  assert.deepEqual(exits, [70]);
});
