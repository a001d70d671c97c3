import { test } from "node:test";
import assert from "node:assert/strict";
import { KEY_CPU_WEIGHT, KeyCpuShares, REWEIGH_RATIO, type Weighable } from "./key-cpu-shares.js";

class Group implements Weighable {
  weight = 100;
  writes = 0;
  closed = false;
  setCpuWeight(w: number): void {
    this.weight = w;
    this.writes++;
  }
}

/** Runs deferred batches only when asked, as the event loop would after the call. */
function shares(): { s: KeyCpuShares; run: () => void } {
  let queued: (() => void)[] = [];
  const s = new KeyCpuShares((fn) => void queued.push(fn));
  const run = () => {
    while (queued.length) {
      const now = queued;
      queued = [];
      for (const fn of now) fn();
    }
  };
  return { s, run };
}

const total = (gs: Group[]) => gs.reduce((n, g) => n + g.weight, 0);

test("one sandbox gets its key's whole weight; a key's sandboxes share it, whatever their count", () => {
  const { s, run } = shares();
  const a = [new Group()];
  const b: Group[] = [];
  s.join("A", a[0]!);
  for (let i = 0; i < 10; i++) {
    const g = new Group();
    b.push(g);
    s.join("B", g);
  }
  run();
  assert.equal(a[0]!.weight, KEY_CPU_WEIGHT);
  assert.ok(total(b) <= KEY_CPU_WEIGHT * REWEIGH_RATIO && total(b) >= KEY_CPU_WEIGHT / REWEIGH_RATIO, `10 sandboxes weigh ${total(b)}`);
  // At every count on the way up and down, each key's total stays within the band.
  for (let i = 0; i < 300; i++) {
    const g = new Group();
    b.push(g);
    s.join("B", g);
    run();
    const t = total(b);
    assert.ok(t <= KEY_CPU_WEIGHT * REWEIGH_RATIO + b.length && t >= KEY_CPU_WEIGHT / REWEIGH_RATIO - b.length, `${b.length} sandboxes weigh ${t}`);
  }
  while (b.length > 1) {
    s.leave("B", b.pop()!);
    run();
    const t = total(b);
    assert.ok(t <= KEY_CPU_WEIGHT * REWEIGH_RATIO + b.length && t >= KEY_CPU_WEIGHT / REWEIGH_RATIO - b.length, `${b.length} sandboxes weigh ${t}`);
  }
  assert.equal(b[0]!.weight, KEY_CPU_WEIGHT);
  assert.equal(a[0]!.weight, KEY_CPU_WEIGHT, "another key's sandboxes are not touched");
});

test("a key growing to thousands of sandboxes costs a few group writes per create, not one per sandbox", () => {
  const { s, run } = shares();
  const gs: Group[] = [];
  for (let i = 0; i < 5000; i++) {
    const g = new Group();
    gs.push(g);
    s.join("big", g);
    run();
  }
  const writes = gs.reduce((n, g) => n + g.writes, 0);
  // Each reweigh writes every group, and comes once the count grew by REWEIGH_RATIO: a
  // geometric sum, R / (R - 1) writes a create, plus the newcomer's own.
  const perCreate = 1 + REWEIGH_RATIO / (REWEIGH_RATIO - 1);
  assert.ok(writes <= perCreate * gs.length, `${writes} writes for ${gs.length} creates (at most ${perCreate} each)`);
  assert.equal(s.weightOf("big"), gs[gs.length - 1]!.weight);
});

test("writes wait for the deferred turn, skip closed groups and those that left, and go in bounded batches", () => {
  let turns = 0;
  let queued: (() => void)[] = [];
  const s = new KeyCpuShares((fn) => void queued.push(fn));
  const gs = Array.from({ length: 1000 }, () => new Group());
  for (const g of gs) s.join("k", g);
  assert.ok(gs.every((g) => g.writes === 0), "written during the call");
  gs[0]!.closed = true;
  s.leave("k", gs[1]!);
  while (queued.length) {
    turns++;
    const now = queued;
    queued = [];
    for (const fn of now) fn();
  }
  assert.ok(turns > 1, "one turn wrote everything");
  assert.equal(gs[0]!.writes, 0);
  assert.equal(gs[1]!.writes, 0);
  assert.ok(gs.slice(2).every((g) => g.writes >= 1));
  assert.equal(s.weightOf("nobody"), undefined);
});
