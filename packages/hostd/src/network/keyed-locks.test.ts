import assert from "node:assert/strict";
import { test } from "node:test";
import { KeyedLocks } from "./keyed-locks.js";

/** A job that records its start and end and finishes when `release` is called. */
function job(log: string[], name: string): { run: () => Promise<void>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { run: async () => { log.push(`${name}+`); await done; log.push(`${name}-`); }, release };
}

test("keyed locks: one job per key at a time, other keys side by side", async () => {
  const locks = new KeyedLocks();
  const log: string[] = [];
  const [a1, a2, b] = [job(log, "a1"), job(log, "a2"), job(log, "b")];
  const runs = [locks.withKey("a", a1.run), locks.withKey("a", a2.run), locks.withKey("b", b.run)];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a1+", "b+"]);
  assert.equal(locks.busy("a"), true);
  a1.release();
  await runs[0];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a1+", "b+", "a1-", "a2+"]);
  a2.release();
  b.release();
  await Promise.all(runs);
  assert.equal(locks.busy("a"), false);
});

test("keyed locks: a failed job does not block the next; exclusive waits for all and blocks later ones", async () => {
  const locks = new KeyedLocks();
  const log: string[] = [];
  await assert.rejects(locks.withKey("a", () => Promise.reject(new Error("boom"))), /boom/);
  const a = job(log, "a");
  const ex = job(log, "x");
  const runA = locks.withKey("a", a.run);
  const runX = locks.exclusive(ex.run);
  const runB = locks.withKey("b", async () => void log.push("b"));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a+"]);
  a.release();
  await runA;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a+", "a-", "x+"]);
  ex.release();
  await Promise.all([runX, runB]);
  assert.deepEqual(log, ["a+", "a-", "x+", "x-", "b"]);
});
