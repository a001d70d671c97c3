import assert from "node:assert/strict";
import { test } from "node:test";
import { idleSessions, sweepPeriodMs } from "./idle.js";

test("a session is idle once its last request ended idleTimeoutMs ago, never while a request runs", () => {
  const sessions = [
    { id: "fresh", lastActiveMs: 9_500, inFlight: 0 },
    { id: "old", lastActiveMs: 4_000, inFlight: 0 },
    { id: "exactly", lastActiveMs: 5_000, inFlight: 0 },
    { id: "busy", lastActiveMs: 0, inFlight: 1 },
  ];
  assert.deepEqual(idleSessions(sessions, 10_000, 5_000), ["old", "exactly"]);
});

test("the sweep period is a quarter of the timeout, between 100 ms and 30 s", () => {
  assert.equal(sweepPeriodMs(600_000), 30_000);
  assert.equal(sweepPeriodMs(2_000), 500);
  assert.equal(sweepPeriodMs(10), 100);
});
