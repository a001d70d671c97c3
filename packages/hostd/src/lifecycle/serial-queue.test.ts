// The per-sandbox job queue: order, isolation from failures, and joint jobs across two queues.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SerialQueue } from "./serial-queue.js";

/** A job that ends when the test says so, logging its start and end. */
function gate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    open = () => resolve(name);
    fail = reject;
  });
  const job = async () => {
    log.push(`start ${name}`);
    try {
      return await done;
    } finally {
      log.push(`end ${name}`);
    }
  };
  return { job, open, fail };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

test("jobs run one at a time, in the order they were queued", async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  const [a, b, c] = [gate(log, "a"), gate(log, "b"), gate(log, "c")];
  const results = [q.run(a.job), q.run(b.job), q.run(c.job)];
  await settle();
  assert.deepEqual(log, ["start a"]);
  b.open(); // finished early, still waits its turn
  c.open();
  await settle();
  assert.deepEqual(log, ["start a"]);
  a.open();
  assert.deepEqual(await Promise.all(results), ["a", "b", "c"]);
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
});

test("a failed job rejects its own caller only; the next job still runs", async () => {
  const q = new SerialQueue();
  const log: string[] = [];
  const [a, b] = [gate(log, "a"), gate(log, "b")];
  const first = q.run(a.job);
  const second = q.run(b.job);
  a.fail(new Error("boom"));
  await assert.rejects(first, /boom/);
  b.open();
  assert.equal(await second, "b");
  // A job that throws synchronously inside its async body is a rejection too.
  await assert.rejects(q.run(async () => { throw new Error("sync"); }), /sync/);
  assert.equal(await q.run(async () => "after"), "after");
});

test("runAcross waits for both queues' jobs, and both queues' later jobs wait for it", async () => {
  const p = new SerialQueue();
  const w = new SerialQueue();
  const log: string[] = [];
  const [a, b, m, c, d] = ["a", "b", "m", "c", "d"].map((n) => gate(log, n));
  const ra = p.run(a!.job);
  const rb = w.run(b!.job);
  const rm = SerialQueue.runAcross([p, w], m!.job);
  const rc = p.run(c!.job);
  const rd = w.run(d!.job);
  await settle();
  assert.deepEqual(log, ["start a", "start b"]);
  a!.open();
  await settle();
  assert.ok(!log.includes("start m"), "the joint job waits for the other queue too");
  b!.fail(new Error("b failed")); // a failure in either queue does not stop the joint job
  await assert.rejects(rb, /b failed/);
  await settle();
  assert.ok(log.includes("start m"));
  assert.ok(!log.includes("start c") && !log.includes("start d"), "later jobs on both queues wait for the joint one");
  c!.open();
  d!.open();
  m!.open();
  assert.deepEqual(await Promise.all([ra, rm, rc, rd]), ["a", "m", "c", "d"]);
  assert.ok(log.indexOf("end m") < log.indexOf("start c") && log.indexOf("end m") < log.indexOf("start d"));
});
