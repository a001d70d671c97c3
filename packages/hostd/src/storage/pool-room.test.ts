import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { PoolRoom, type PoolRoomReading } from "./pool-room.js";

const MB = 1024 * 1024;

function room(reading: PoolRoomReading | Error, now = () => 0): { room: PoolRoom; logged: string[] } {
  const logged: string[] = [];
  const read = () => {
    if (reading instanceof Error) throw reading;
    return reading;
  };
  return { room: new PoolRoom("/pool", (m) => logged.push(m), read, now), logged };
}

test("a pool with room: creates go on, a sandbox's no_space stays its own", () => {
  const { room: r, logged } = room({ freeBytes: 5000 * MB, totalBytes: 10_000 * MB });
  assert.equal(r.full(), undefined);
  assert.equal(r.refuseNew("create"), undefined);
  const own = new PodflareError("no_space", "no space left on device. Free space in the sandbox or create it with a larger disk_mb.");
  assert.equal(r.explain(own), own);
  assert.deepEqual(logged, []);
});

test("a full pool: creates refused with 507 no_space naming the pool and the fix; a no_space is the host's", () => {
  const { room: r, logged } = room({ freeBytes: 40 * MB, totalBytes: 2048 * MB });
  const refused = r.refuseNew("fork");
  assert.ok(refused);
  assert.equal(refused.code, "no_space");
  assert.equal(refused.status, 507);
  assert.match(refused.message, /^fork refused: the host's storage pool is full \(40 MB free of 2048 MB\).*PODFLARE_POOL_SIZE_GB/);
  const told = r.explain(new PodflareError("no_space", "no space left on device"));
  assert.ok(told instanceof PodflareError);
  assert.match(told.message, /storage pool is full.*not this sandbox's disk_mb/);
  assert.doesNotMatch(told.message, /larger disk_mb/);
  assert.equal(logged.length, 1, "one WARNING, not one per call");
  assert.match(logged[0]!, /^WARNING: the storage pool \/pool is full/);
});

test("full is below 256 MB or 2% of the pool, whichever is more", () => {
  assert.ok(room({ freeBytes: 255 * MB, totalBytes: 2048 * MB }).room.full());
  assert.equal(room({ freeBytes: 257 * MB, totalBytes: 2048 * MB }).room.full(), undefined);
  assert.ok(room({ freeBytes: 1000 * MB, totalBytes: 100_000 * MB }).room.full());
  assert.equal(room({ freeBytes: 2100 * MB, totalBytes: 100_000 * MB }).room.full(), undefined);
});

test("the WARNING repeats at most once a minute", () => {
  let t = 0;
  const { room: r, logged } = room({ freeBytes: 0, totalBytes: 2048 * MB }, () => t);
  r.full();
  t = 59_000;
  r.full();
  assert.equal(logged.length, 1);
  t = 60_000;
  r.full();
  assert.equal(logged.length, 2);
});

test("a pool that cannot be read is not called full, and other errors pass through", () => {
  const { room: r } = room(new Error("EIO"));
  assert.equal(r.full(), undefined);
  const other = new PodflareError("file_not_found", "x");
  assert.equal(room({ freeBytes: 0, totalBytes: 1 }).room.explain(other), other);
});
