// The usage snapshotter with a fake clock (no timers) on a real SQLite store.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore } from "../store/index.js";
import type { Clock } from "./clock.js";
import { UsageHistory } from "./usage-history.js";
import { UsageStore } from "./usage.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-usage-history-"));
const store = openStore(dir);
after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

class FakeClock implements Clock {
  t = 1_000_000;
  private fns: (() => void)[] = [];
  now(): number {
    return this.t;
  }
  every(_ms: number, fn: () => void) {
    this.fns.push(fn);
    return { stop: () => (this.fns = this.fns.filter((f) => f !== fn)) };
  }
  tick(ms: number): void {
    this.t += ms;
    for (const f of this.fns) f();
  }
}

const usage = new UsageStore(store.usage);
const running = new Map<string, { createdAt: number; memoryMb: number }[]>();
const clock = new FakeClock();
const history = new UsageHistory(
  store.usageHistory,
  { owners: () => store.usage.owners(), report: (o) => usage.report(o, running.get(o) ?? [], clock.now()) },
  { intervalMs: 60_000, retentionMs: 180_000, clock },
);

test("each tick writes a point per owner whose totals moved; idle owners get none; old points are pruned", () => {
  usage.sandboxCreated("a");
  usage.exec("b");
  running.set("a", [{ createdAt: clock.now(), memoryMb: 1024 }]);
  history.start();
  clock.tick(60_000);
  assert.deepEqual(store.usageHistory.since(0).map((p) => p.owner), ["a", "b"]);
  clock.tick(60_000); // a's sandbox keeps running: its seconds move; b is idle
  const second = store.usageHistory.since(clock.now());
  assert.deepEqual(second.map((p) => [p.owner, p.sandbox_seconds]), [["a", 120]]);
  usage.exec("b");
  clock.tick(60_000);
  assert.deepEqual(store.usageHistory.since(clock.now()).map((p) => [p.owner, p.execs]), [["a", 0], ["b", 2]]);
  clock.tick(60_000);
  clock.tick(60_000);
  // Retention is 180 s: the points of the first two ticks are gone.
  assert.ok(store.usageHistory.since(0).every((p) => p.at >= clock.now() - 180_000));
  assert.equal(store.usageHistory.since(0).filter((p) => p.owner === "b").length, 1);
  history.stop();
  const n = store.usageHistory.since(0).length;
  clock.tick(60_000);
  assert.equal(store.usageHistory.since(0).length, n, "stopped: no more points");
});

test("since() never reaches past retention, and filters by owner", () => {
  assert.ok(history.since(0, "a").every((p) => p.owner === "a"));
  assert.ok(history.since(0).every((p) => p.at >= clock.now() - 180_000));
  assert.equal(history.current("a").at, clock.now());
});

test("a long history is thinned to at most maxPerOwner points per owner, evenly, keeping the first and the latest", () => {
  const t0 = clock.now();
  store.usageHistory.append(Array.from({ length: 100 }, (_, i) => ({ owner: "many", at: t0 + 1 + i, sandboxes_created: 1, sandbox_seconds: i, gb_seconds: 0, execs: 0, forks: 0 })));
  store.usageHistory.append([{ owner: "few", at: t0 + 1, sandboxes_created: 1, sandbox_seconds: 1, gb_seconds: 0, execs: 0, forks: 0 }]);
  const thin = history.since(t0 + 1, undefined, 10);
  const many = thin.filter((p) => p.owner === "many").map((p) => p.sandbox_seconds);
  assert.equal(many.length, 10);
  assert.equal(many[0], 0);
  assert.equal(many[9], 99, "the latest point is kept");
  assert.ok(many.every((v, i) => i === 0 || v > many[i - 1]!), "oldest first");
  assert.equal(thin.filter((p) => p.owner === "few").length, 1, "a short line is untouched");
  assert.equal(history.since(t0 + 1, "many").length, 100, "under the default cap nothing is dropped");
});
