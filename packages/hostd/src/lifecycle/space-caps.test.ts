// Space caps per owner: pure logic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { checkSpaceBytes, checkSpaceCount, spaceCapsFor } from "./space-caps.js";

const MB = 1024 * 1024;

test("a tier's Space caps, lowered by the host's", () => {
  assert.deepEqual(spaceCapsFor("pro"), { maxSpaces: 20, storageBytes: 20 * 1024 * MB });
  assert.deepEqual(spaceCapsFor("pro", { maxSpaces: 2, storageMb: 48 }), { maxSpaces: 2, storageBytes: 48 * MB });
  assert.deepEqual(spaceCapsFor("free", { maxSpaces: 5 }), { maxSpaces: 0, storageBytes: 0 });
});

test("count: 429 space_limit at the cap, naming it and the fix", () => {
  const caps = spaceCapsFor("pro", { maxSpaces: 2 });
  checkSpaceCount(1, caps, "pro");
  assert.throws(() => checkSpaceCount(2, caps, "pro"), (err: unknown) => {
    assert.ok(err instanceof PodflareError);
    assert.equal(err.code, "space_limit");
    assert.equal(err.status, 429);
    assert.match(err.message, /at most 2 Spaces per key and you have 2; delete one/);
    return true;
  });
});

test("bytes: 507 space_storage_limit past the cap, in MB", () => {
  const caps = spaceCapsFor("pro", { storageMb: 48 });
  checkSpaceBytes(18 * MB, 30 * MB, caps, "pro");
  assert.throws(() => checkSpaceBytes(30 * MB, 30 * MB, caps, "pro"), (err: unknown) => {
    assert.ok(err instanceof PodflareError);
    assert.equal(err.code, "space_storage_limit");
    assert.equal(err.status, 507);
    assert.match(err.message, /would take 30 MB and your Spaces already take 30 MB of the pro tier's 48 MB/);
    return true;
  });
});
