import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultCeiling } from "./ceiling.js";

test("the default ceiling leaves the host 1/8 of its RAM and pids, at least 1 GiB and 2048 tasks", () => {
  assert.deepEqual(defaultCeiling(24151, 32768), { memoryMb: 24151 - 3018, pidsMax: 32768 - 4096 });
  assert.deepEqual(defaultCeiling(4096, 4_194_304), { memoryMb: 3072, pidsMax: 4_194_304 - 524_288 });
  assert.deepEqual(defaultCeiling(8000, 10000), { memoryMb: 8000 - 1024, pidsMax: 10000 - 2048 });
});

test("a tiny host still keeps half for the sandboxes", () => {
  assert.deepEqual(defaultCeiling(1024, 2000), { memoryMb: 512, pidsMax: 1000 });
});
