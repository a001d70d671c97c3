// The reaper against a fake clock and fake sandboxes: no real timers, no sleeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TierName } from "../auth/tiers.js";
import type { Clock } from "./clock.js";
import { decide, Reaper, type LifecycleView } from "./reaper.js";

class FakeClock implements Clock {
  t = 1_000_000;
  ticks: { intervalMs: number; fn: () => void; stopped: boolean }[] = [];
  now(): number {
    return this.t;
  }
  every(intervalMs: number, fn: () => void) {
    const tick = { intervalMs, fn, stopped: false };
    this.ticks.push(tick);
    return { stop: () => void (tick.stopped = true) };
  }
}

interface FakeSandbox {
  id: string;
  owner: string;
  state: "ready" | "paused";
  persistent: boolean;
  pausedByCall: boolean;
  busy: boolean;
  createdAt: number;
  lastActiveAt: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
  expired?: boolean;
}

function world(clock: FakeClock, opts: { freezeFails?: boolean; freezeHangs?: boolean; freezeDeadlineMs?: number } = {}) {
  const live = new Map<string, FakeSandbox>();
  const calls: string[] = [];
  const sandboxes = {
    lifecycleView: (now: number): LifecycleView[] =>
      [...live.values()].map((s) => ({ ...s, idleMs: now - s.lastActiveAt, ageMs: now - s.createdAt })),
    expire: (_owner: string, id: string, frozen: boolean) => {
      live.get(id)!.expired = true;
      calls.push(`expire ${id} ${frozen ? "freeze" : "close"}`);
    },
    pause: async (_owner: string, id: string) => {
      live.get(id)!.state = "paused";
      calls.push(`pause ${id}`);
      return {} as never;
    },
    delete: async (_owner: string, id: string) => {
      live.delete(id);
      calls.push(`delete ${id}`);
    },
  };
  const spaces = {
    freeze: async (owner: string, id: string, tier: TierName, reason?: string) => {
      calls.push(`freeze ${id} ${tier} ${reason}`);
      if (opts.freezeFails) throw new Error("space_limit");
      if (opts.freezeHangs) return new Promise<never>(() => undefined);
      live.delete(id);
      return { space_id: "spc_x" } as never;
    },
  };
  const add = (id: string, s: Partial<FakeSandbox> = {}) =>
    live.set(id, { id, owner: "o1", state: "ready", persistent: false, pausedByCall: false, busy: false, createdAt: clock.t, lastActiveAt: clock.t, idleTimeoutS: 10, maxLifetimeS: 100, ...s });
  const reaper = new Reaper(sandboxes, spaces, () => undefined, { clock, intervalMs: 250, tierOf: (o) => (o === "o1" ? "pro" : "free"), freezeDeadlineMs: opts.freezeDeadlineMs });
  return { live, calls, add, reaper };
}

const view = (v: Partial<LifecycleView>): LifecycleView => ({
  id: "sbx", owner: "o", state: "ready", persistent: false, pausedByCall: false, busy: false, idleMs: 0, ageMs: 0, idleTimeoutS: 10, maxLifetimeS: 100, ...v,
});

test("decide: idle pauses, twice idle retires, lifetime expires busy or not, a busy sandbox is never idle", () => {
  assert.equal(decide(view({})), null);
  assert.equal(decide(view({ idleMs: 10_000 })), "pause");
  assert.equal(decide(view({ idleMs: 10_000, busy: true })), null);
  assert.equal(decide(view({ state: "paused", idleMs: 19_999 })), null);
  assert.equal(decide(view({ state: "paused", idleMs: 20_000 })), "retire");
  assert.equal(decide(view({ ageMs: 100_000 })), "expire");
  assert.equal(decide(view({ ageMs: 100_000, busy: true })), "expire");
  assert.equal(decide(view({ ageMs: 100_000, state: "paused" })), "expire");
  // Paused by a call: kept however long it is idle, but not past its lifetime.
  assert.equal(decide(view({ state: "paused", pausedByCall: true, idleMs: 1e9 })), null);
  assert.equal(decide(view({ state: "paused", pausedByCall: true, ageMs: 100_000 })), "expire");
});

test("start ticks on the clock every intervalMs; stop stops it", () => {
  const clock = new FakeClock();
  const { reaper } = world(clock);
  reaper.start();
  assert.equal(clock.ticks.length, 1);
  assert.equal(clock.ticks[0]!.intervalMs, 250);
  reaper.stop();
  assert.equal(clock.ticks[0]!.stopped, true);
});

test("an idle sandbox is paused at idle_timeout_s and closed at twice that; activity resets the idle clock", async () => {
  const clock = new FakeClock();
  const { live, calls, add, reaper } = world(clock);
  add("a");
  clock.t += 9_999;
  await reaper.tick();
  assert.deepEqual(calls, []);
  live.get("a")!.lastActiveAt = clock.t; // a call
  clock.t += 9_999;
  await reaper.tick();
  assert.deepEqual(calls, []);
  clock.t += 1;
  await reaper.tick();
  assert.deepEqual(calls, ["pause a"]);
  clock.t += 10_000;
  await reaper.tick();
  assert.deepEqual(calls, ["pause a", "delete a"]);
  assert.equal(live.size, 0);
});

test("past max_lifetime_s a busy sandbox is expired (its exec interrupted) and closed; calls never extend the lifetime", async () => {
  const clock = new FakeClock();
  const { calls, add, reaper, live } = world(clock);
  add("busy", { busy: true, maxLifetimeS: 3 });
  add("chatty", { maxLifetimeS: 3 });
  for (let i = 0; i < 29; i++) {
    clock.t += 100;
    live.get("chatty")!.lastActiveAt = clock.t;
    await reaper.tick();
  }
  assert.deepEqual(calls, []);
  clock.t += 100;
  live.get("chatty")!.lastActiveAt = clock.t;
  await reaper.tick();
  assert.deepEqual(calls, ["expire busy close", "delete busy", "expire chatty close", "delete chatty"]);
});

test("a persistent sandbox is frozen under its owner's tier; when the freeze is refused it is closed anyway", async () => {
  const clock = new FakeClock();
  const ok = world(clock);
  ok.add("p", { persistent: true, busy: true, maxLifetimeS: 1 });
  clock.t += 1_000;
  await ok.reaper.tick();
  assert.deepEqual(ok.calls, ["expire p freeze", "freeze p pro lifetime"]);

  const refused = world(clock, { freezeFails: true });
  refused.add("q", { persistent: true, state: "paused", lastActiveAt: clock.t - 20_000 });
  await refused.reaper.tick();
  assert.deepEqual(refused.calls, ["freeze q pro idle", "delete q"]);
});

test("a freeze that does not end holds up no other sandbox: the others expire on time, and it is not acted on twice", async () => {
  const clock = new FakeClock();
  const { calls, add, reaper } = world(clock, { freezeHangs: true, freezeDeadlineMs: 60_000 });
  add("stuck", { persistent: true, maxLifetimeS: 1 });
  clock.t += 1_000;
  const first = reaper.tick(); // not awaited: its freeze never ends
  add("other", { maxLifetimeS: 1 });
  clock.t += 1_000;
  await reaper.tick();
  assert.deepEqual(calls, ["expire stuck freeze", "freeze stuck pro lifetime", "expire other close", "delete other"]);
  void first;
});

test("a persistent sandbox whose freeze does not finish in time is closed: its lifetime holds", async () => {
  const clock = new FakeClock();
  const { calls, add, reaper } = world(clock, { freezeHangs: true, freezeDeadlineMs: 20 });
  add("slow", { persistent: true, maxLifetimeS: 1 });
  clock.t += 1_000;
  const alive = setInterval(() => undefined, 5); // the deadline's timer is unref'd, as in hostd
  try {
    await reaper.tick();
  } finally {
    clearInterval(alive);
  }
  assert.deepEqual(calls, ["expire slow freeze", "freeze slow pro lifetime", "delete slow"]);
});
