import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import type { DiskGroup, DiskGroupUsage, StoragePool } from "../../storage/index.js";
import { OwnerDisk, diskGroupId } from "./owner-disk.js";

const MB = 1024 * 1024;

function storage(usage: (g: DiskGroup) => DiskGroupUsage | undefined): StoragePool {
  return { root: "/nowhere", diskGroupUsage: usage } as unknown as StoragePool;
}

test("an owner's group id: the same for the same owner, different for others, 1..2^48-1", () => {
  const a = diskGroupId("key_0123456789abcdef");
  assert.equal(diskGroupId("key_0123456789abcdef"), a);
  assert.notEqual(diskGroupId("key_fedcba9876543210"), a);
  for (const owner of ["a", "b", "admin", "key_x"]) {
    const id = diskGroupId(owner);
    assert.ok(Number.isInteger(id) && id >= 1 && id < 2 ** 48);
  }
});

test("no group for the local caller or a share of the whole pool; otherwise percent of the pool", () => {
  const d = new OwnerDisk(storage(() => undefined), 30, 2000 * MB);
  assert.equal(d.groupOf(undefined), undefined);
  assert.deepEqual(d.groupOf("key_a"), { id: diskGroupId("key_a"), bytes: 600 * MB });
  assert.equal(new OwnerDisk(storage(() => undefined), 100, 2000 * MB).groupOf("key_a"), undefined);
});

test("a used-up share refuses creates and explains a no_space; room left, nothing changes", () => {
  let used = 590 * MB;
  const d = new OwnerDisk(storage(() => ({ usedBytes: used, limitBytes: 600 * MB })), 30, 2000 * MB);
  const refused = d.refuseNew("fork", "key_a");
  assert.ok(refused instanceof PodflareError);
  assert.equal(refused.status, 507);
  assert.match(refused.message, /^fork refused: this key's sandboxes together hold their share of the host's storage pool \(590 MB of 600 MB: PODFLARE_OWNER_DISK_PERCENT=30/);
  const own = new PodflareError("no_space", "no space left on device");
  assert.match((d.explain(own, "key_a") as Error).message, /not this sandbox's own disk_mb/);
  assert.equal(d.refuseNew("create", undefined), undefined, "the local caller has no share");
  used = 100 * MB;
  assert.equal(d.refuseNew("create", "key_a"), undefined);
  assert.equal(d.explain(own, "key_a"), own);
  const other = new PodflareError("file_not_found", "x");
  used = 600 * MB;
  assert.equal(d.explain(other, "key_a"), other);
});
