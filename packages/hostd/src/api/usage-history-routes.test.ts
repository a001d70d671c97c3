import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { parseSince } from "./usage-history-routes.js";

const now = Date.parse("2026-12-06T04:00:00Z");

test("since: epoch ms or an ISO time; none or empty means 24 hours ago", () => {
  assert.equal(parseSince("1764993600000", now), 1764993600000);
  assert.equal(parseSince("0", now), 0);
  assert.equal(parseSince("2026-12-05T04:00:00Z", now), now - 86_400_000);
  assert.equal(parseSince(null, now), now - 86_400_000);
  assert.equal(parseSince("", now), now - 86_400_000);
});

test("since: anything else is bad_request naming both forms", () => {
  // Past the largest Date (8.64e15 ms), `new Date(ms).toISOString()` threw: a 500 "Invalid time value".
  for (const bad of ["yesterday", "12abc", "-5", "1e3", "2026-13-45", "99999999999999999999", "8640000000000001"]) {
    assert.throws(() => parseSince(bad, now), (e: unknown) => e instanceof PodflareError && e.code === "bad_request" && /ISO time .* or epoch milliseconds/.test(e.message), bad);
  }
});
