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

/** A runtime that can spawn: creates (cold boots) and spawns are recorded; spawn fails while `failing`. */
function spawningRuntime() {
  const calls = { creates: [] as RuntimeSandboxSpec[], spawns: [] as { zygote: string; count: number }[], destroyed: [] as string[] };
  const state = { failing: false };
  const sandbox = (id: string) => ({ id, destroy: async () => void calls.destroyed.push(id), foreground: () => undefined }) as unknown as RuntimeSandbox;
  const runtime = {
    kind: "fake",
    async create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox> {
      calls.creates.push(spec);
      await sleep(5);
      return sandbox(spec.id);
    },
    async spawn(zygote: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<RuntimeSandbox[]> {
      await sleep(5);
      if (state.failing) throw new Error("spawn failed");
      calls.spawns.push({ zygote: zygote.id, count: specs.length });
      return specs.map((s) => sandbox(s.id));
    },
  } as unknown as Runtime;
  return { runtime, calls, state };
}

test("refill spawns batches from one zygote, which is never handed out and goes at stop", async () => {
  const { runtime, calls } = spawningRuntime();
  let n = 0;
  const p = new WarmPool(runtime, { size: 5, spawnBatch: 3, templates: ["default"], limits: LIMITS, newId: () => `sbx_${n++}`, busy: () => false, log: () => undefined, network: { egress: true, policy: {} as never } });
  p.start();
  await until(() => p.stats().free === 5);
  assert.equal(p.stats().refill, "spawn");
  assert.equal(calls.creates.length, 1, "only the zygote boots cold");
  const zygote = calls.creates[0]!;
  assert.equal(zygote.network, undefined, "the zygote has a link out");
  assert.ok(zygote.background);
  assert.deepEqual(calls.spawns.map((s) => s.count), [3, 2], "batches of at most spawnBatch, never more than the pool lacks");
  assert.ok(calls.spawns.every((s) => s.zygote === zygote.id));
  const taken = [];
  for (let i = 0; i < 5; i++) taken.push(p.take("default", APPLIED, {})!.id);
  assert.ok(!taken.includes(zygote.id), "the zygote was handed out");
  // Half empty or more: refill starts at once, from the same zygote.
  await until(() => p.stats().free === 5);
  assert.equal(calls.creates.length, 1);
  await p.stop();
  assert.ok(calls.destroyed.includes(zygote.id), "stop left the zygote running");
  assert.equal(calls.destroyed.length, 6);
});

test("a failed spawn replaces the zygote; after three in a row refill boots cold", async () => {
  const { runtime, calls, state } = spawningRuntime();
  state.failing = true;
  const logs: string[] = [];
  const p = new WarmPool(runtime, { size: 2, templates: ["default"], limits: LIMITS, newId: () => `sbx_${Math.random()}`, busy: () => false, log: (m) => logs.push(m) });
  p.start();
  await until(() => p.stats().free === 2);
  assert.equal(p.stats().refill, "boot");
  // Three zygotes, each destroyed after its failed spawn, then two cold boots.
  assert.equal(calls.creates.length, 5);
  assert.deepEqual(calls.destroyed, calls.creates.slice(0, 3).map((s) => s.id));
  assert.ok(logs.some((l) => l.includes("booting every pooled sandbox cold")), logs.join("\n"));
  await p.stop();
});

test("refill holds off while a burst takes from a pool more than half full", async () => {
  const { runtime, calls } = spawningRuntime();
  const p = new WarmPool(runtime, { size: 4, templates: ["default"], limits: LIMITS, newId: () => `sbx_${Math.random()}`, busy: () => false, log: () => undefined });
  p.start();
  await until(() => p.stats().free === 4);
  const spawned = () => calls.spawns.reduce((a, s) => a + s.count, 0);
  const before = spawned();
  assert.ok(p.take("default", APPLIED, {}));
  await sleep(40);
  assert.equal(spawned(), before, "refilled in the middle of a burst while the pool was still 3/4 full");
  await until(() => p.stats().free === 4); // once the burst pauses
  // Half empty: refill starts at once.
  assert.ok(p.take("default", APPLIED, {}));
  assert.ok(p.take("default", APPLIED, {}));
  assert.ok(p.take("default", APPLIED, {}));
  await sleep(40);
  assert.ok(p.stats().free >= 2, `free ${p.stats().free}: refill waited although the pool was below half`);
  await p.stop();
});
