// The sandbox manager's own logic — concurrency reservations under racing creates and forks,
// states, the idle and lifetime clocks, expiry — with a fake clock and a fake runtime (no
// namespaces: those are the integration tests' part) and a real SQLite store in a temp dir.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PodflareError } from "@podflare/protocol";
import { loadConfig } from "../config.js";
import type { Runtime, RuntimeSandbox, RuntimeSandboxSpec } from "../runtime/types.js";
import { openStore } from "../store/index.js";
import type { Clock } from "./clock.js";
import { SandboxManager } from "./sandbox-manager.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-manager-"));
const store = openStore(dir);
after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const clock: Clock & { t: number } = { t: 5_000_000, now: () => clock.t, every: () => ({ stop: () => undefined }) };

function fakeSandbox(id: string, log: string[]): RuntimeSandbox {
  return {
    id,
    handle: { initPid: 1, initStartTime: "1" },
    pause: async () => void log.push(`pause ${id}`),
    resume: async () => void log.push(`resume ${id}`),
    destroy: async () => void log.push(`destroy ${id}`),
    detach: () => undefined,
    setCpuWeight: () => undefined,
  } as unknown as RuntimeSandbox;
}

/** A runtime whose creates finish when the test says so, to hold many creates in flight at once. */
function fakeRuntime() {
  const log: string[] = [];
  const waiting: (() => void)[] = [];
  const runtime = {
    kind: "fake",
    create: (spec: RuntimeSandboxSpec) => new Promise<RuntimeSandbox>((resolve) => waiting.push(() => resolve(fakeSandbox(spec.id, log)))),
    fork: async (_parent: RuntimeSandbox, specs: RuntimeSandboxSpec[]) => ({ children: specs.map((s) => fakeSandbox(s.id, log)), landlock: true }),
    addressOf: () => null,
  } as unknown as Runtime;
  const finishAll = async () => {
    // Creates reach the runtime after the (async) template check: let them all get there.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    while (waiting.length) waiting.shift()!();
  };
  return { runtime, log, finishAll };
}

function manager() {
  const fake = fakeRuntime();
  const cfg = loadConfig({ network: null, maxSandboxes: 1000 });
  const m = new SandboxManager(cfg, store.sandboxes, fake.runtime, { has: async () => true }, () => undefined, undefined, undefined, clock);
  return { m, ...fake };
}

const code = (err: unknown) => (err instanceof PodflareError ? err.code : String(err));

test("30 racing creates of a free key (cap 10): exactly 10 succeed, 20 are refused with concurrency_limit", async () => {
  const { m, finishAll } = manager();
  const all = Array.from({ length: 30 }, () => m.create("racer", {}, "free").then(() => "ok", code));
  await finishAll();
  const results = await Promise.all(all);
  assert.equal(results.filter((r) => r === "ok").length, 10);
  assert.equal(results.filter((r) => r === "concurrency_limit").length, 20);
  assert.equal(m.countOf("racer"), 10);
  assert.equal(m.creatingNow, 0, "a reservation was not given back");
  // A close frees exactly one slot.
  await m.delete("racer", m.list("racer")[0]!.id);
  const again = [m.create("racer", {}, "free").then(() => "ok", code), m.create("racer", {}, "free").then(() => "ok", code)];
  await finishAll();
  assert.deepEqual((await Promise.all(again)).sort(), ["concurrency_limit", "ok"]);
});

test("a fork that would pass the cap is refused whole, before it queues", async () => {
  const { m, finishAll } = manager();
  const p = m.create("forker", {}, "free");
  await finishAll();
  const { id } = await p;
  await assert.rejects(m.fork("forker", id, 10, "free"), (err) => code(err) === "concurrency_limit");
  assert.equal(m.countOf("forker"), 1);
  const forks = [m.fork("forker", id, 5, "free").then(() => "ok", code), m.fork("forker", id, 5, "free").then(() => "ok", code)];
  assert.deepEqual((await Promise.all(forks)).sort(), ["concurrency_limit", "ok"]);
  assert.equal(m.countOf("forker"), 6);
});

test("states and clocks: pause and resume, idle from the last call, age from creation, a fork child's lifetime is what is left", async () => {
  const { m, log, finishAll } = manager();
  const p = m.create("o", { idle_timeout_s: 10, max_lifetime_s: 60 }, "pro");
  await finishAll();
  const { id } = await p;
  const view = () => m.lifecycleView(clock.now()).find((v) => v.id === id)!;
  assert.deepEqual({ state: view().state, idleMs: view().idleMs, ageMs: view().ageMs }, { state: "ready", idleMs: 0, ageMs: 0 });
  clock.t += 4_000;
  assert.equal((await m.pause("o", id)).state, "paused");
  assert.deepEqual(log, [`pause ${id}`]);
  assert.equal(view().idleMs, 4_000, "pausing is not activity");
  clock.t += 3_000;
  assert.equal((await m.resume("o", id)).state, "ready");
  assert.equal(view().idleMs, 0, "a call restarts the idle clock");
  assert.equal(view().ageMs, 7_000, "and never the lifetime");
  clock.t += 20_500;
  const { children } = await m.fork("o", id, 1, "pro");
  assert.equal(m.info("o", children[0]!).applied.max_lifetime_s, 32, "32.5 s are left: rounded down, never more than the parent has");
});

test("past its lifetime a sandbox refuses queued execs with sandbox_expired (410)", async () => {
  const { m, finishAll } = manager();
  const p = m.create("o2", { max_lifetime_s: 5 }, "pro");
  await finishAll();
  const { id } = await p;
  m.expire("o2", id, false);
  await assert.rejects(
    m.exec("o2", id, { code: "print(1)", language: "python", timeout_ms: 1000 }, () => undefined),
    (err) => err instanceof PodflareError && err.code === "sandbox_expired" && err.status === 410 && /max_lifetime_s=5/.test(err.message),
  );
});
