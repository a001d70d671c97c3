// Refill logic of the warm pool with a stand-in runtime (pure scheduling: no sandboxes).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppliedLimits } from "@podflare/protocol";
import type { Runtime, RuntimeSandbox, RuntimeSandboxSpec } from "../runtime/types.js";
import { WarmPool } from "./warm-pool.js";

const LIMITS = { memoryMb: 1024, vcpus: 2, diskMb: 4096, pidsMax: 1024 };
const APPLIED: AppliedLimits = { memory_mb: 1024, vcpus: 2, disk_mb: 4096, idle_timeout_s: 300, max_lifetime_s: 1800, egress: true, persistent: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runtime whose creates take bootMs and which records how many ran at once. */
function slowRuntime(bootMs: number) {
  const stats = { inFlight: 0, maxInFlight: 0, created: 0, destroyed: 0, foreground: 0, promoted: 0 };
  const runtime = {
    kind: "fake",
    async create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox> {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      await sleep(bootMs);
      stats.inFlight--;
      stats.created++;
      if (!spec.background) stats.foreground++;
      return { id: spec.id, destroy: async () => void stats.destroyed++, foreground: () => void stats.promoted++ } as unknown as RuntimeSandbox;
    },
  } as unknown as Runtime;
  return { runtime, stats };
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}

function pool(runtime: Runtime, size: number, refillParallel: number, busy = () => false): WarmPool {
  let n = 0;
  return new WarmPool(runtime, { size, refillParallel, templates: ["default"], limits: LIMITS, newId: () => `sbx_${n++}`, busy, log: () => undefined });
}

test("refill boots up to refillParallel sandboxes at once and never more than the pool lacks", async () => {
  const { runtime, stats } = slowRuntime(30);
  const p = pool(runtime, 5, 2);
  p.start();
  await until(() => p.stats().free === 5);
  assert.equal(stats.maxInFlight, 2);
  assert.equal(stats.created, 5, "booted more than the pool holds");
  // Taking two refills two, at once.
  assert.ok(p.take("default", APPLIED, {}));
  assert.ok(p.take("default", APPLIED, {}));
  await until(() => p.stats().free === 5);
  assert.equal(stats.created, 7);
  // Pool boots run in the background CPU class; a sandbox handed out is put back to normal.
  assert.equal(stats.foreground, 0, "a pool boot asked for a normal CPU share");
  assert.equal(stats.promoted, 2);
  await p.stop();
  assert.equal(stats.destroyed, 5);
});

test("one at a time by default, and no refill while user creates are in flight", async () => {
  const { runtime, stats } = slowRuntime(10);
  let busy = true;
  const p = new WarmPool(runtime, { size: 3, templates: ["default"], limits: LIMITS, newId: () => `sbx_${Math.random()}`, busy: () => busy, log: () => undefined });
  p.start();
  await sleep(100);
  assert.equal(stats.created, 0, "refilled while a user create was in flight");
  busy = false;
  await until(() => p.stats().free === 3);
  assert.equal(stats.maxInFlight, 1);
  await p.stop();
});
