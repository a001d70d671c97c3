import { test } from "node:test";
import assert from "node:assert/strict";
import { clampToTier, tiers } from "./tiers.js";

const defaults = { memoryMb: 1024, diskMb: 4096, vcpus: 2, idleTimeoutS: 300, maxLifetimeS: 1800 };
const host = { memoryMb: 24000, cpus: 2 };

test("free tier: 8192 MB asked runs with 1024 and names memory_mb", () => {
  const r = clampToTier({ memory_mb: 8192 }, tiers.free, defaults, host);
  assert.equal(r.memory_mb, 1024);
  assert.deepEqual(r.clamped, ["memory_mb"]);
});

test("within the caps nothing is clamped and defaults fill the rest", () => {
  const r = clampToTier({ memory_mb: 512 }, tiers.free, defaults, host);
  assert.deepEqual(r, { memory_mb: 512, disk_mb: 4096, vcpus: 2, idle_timeout_s: 300, max_lifetime_s: 1800, clamped: [] });
});

test("every capped field is clamped and reported; the host bounds memory and vcpus too", () => {
  const r = clampToTier(
    { memory_mb: 1 << 20, disk_mb: 1 << 30, vcpus: 64, idle_timeout_s: 1e7, max_lifetime_s: 1e8 },
    tiers.enterprise,
    defaults,
    host,
  );
  assert.equal(r.memory_mb, 24000);
  assert.equal(r.disk_mb, tiers.enterprise.diskMb);
  assert.equal(r.vcpus, 2);
  assert.equal(r.idle_timeout_s, tiers.enterprise.idleTimeoutS);
  assert.equal(r.max_lifetime_s, tiers.enterprise.maxLifetimeS);
  assert.deepEqual(r.clamped.sort(), ["disk_mb", "idle_timeout_s", "max_lifetime_s", "memory_mb", "vcpus"]);
});

test("a default above a small tier's cap is lowered without blaming the request", () => {
  const r = clampToTier({}, tiers.free, { ...defaults, idleTimeoutS: 3600 }, host);
  assert.equal(r.idle_timeout_s, 300);
  assert.deepEqual(r.clamped, []);
});
