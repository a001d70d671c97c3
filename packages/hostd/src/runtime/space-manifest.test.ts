import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_ENTRIES, boundManifest } from "./space-manifest.js";

test("a guest's manifest is bounded: long names clipped, long lists cut with a count, wrong shapes dropped", () => {
  const huge = "a".repeat(1_000_000);
  const m = boundManifest({
    serializer: "pickle",
    saved: [huge, "x", 7],
    failed: [{ name: huge, reason: "r".repeat(5000) }, { name: 1, reason: "no" }, "junk", ...Array.from({ length: 150 }, (_, i) => ({ name: `n${i}`, reason: "lock" }))],
    modules: "not a list",
    processes: Array.from({ length: 300 }, (_, i) => `p${i}`),
  });
  assert.ok(JSON.stringify(m).length < 60_000, `manifest still ${JSON.stringify(m).length} characters`);
  assert.equal(m.saved![0]!.startsWith("aaa"), true);
  assert.match(m.saved![0]!, /… \(1000000 characters\)$/);
  assert.deepEqual(m.saved!.slice(1), ["x"]);
  assert.equal(m.failed.length, MAX_ENTRIES + 1);
  assert.match(m.failed[MAX_ENTRIES]!.name, /and 51 more/);
  assert.equal(m.modules, undefined);
  assert.equal(m.processes!.length, MAX_ENTRIES + 1);
  assert.equal(m.serializer, "pickle");
});
