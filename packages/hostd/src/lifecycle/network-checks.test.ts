// The GET-started network check: not waited for, one at a time and at most one a second per sandbox.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NetworkChecks } from "./network-checks.js";
import type { RuntimeSandbox } from "../runtime/types.js";

function harness() {
  let now = 0;
  const started: string[] = [];
  const pending: (() => void)[] = [];
  const checks = new NetworkChecks(
    (rt) => {
      started.push(rt.id);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    () => now,
    () => undefined,
  );
  const settle = async () => {
    for (const r of pending.splice(0)) r();
    await new Promise((r) => setImmediate(r));
  };
  return { checks, started, settle, advance: (ms: number) => (now += ms) };
}

const sandbox = (id: string) => ({ sb: {}, rt: { id } as RuntimeSandbox });

test("a check starts at once and the caller does not wait for it", () => {
  const h = harness();
  const a = sandbox("a");
  h.checks.start(a.sb, "a", a.rt);
  assert.deepEqual(h.started, ["a"]);
});

test("one at a time per sandbox, and at most one started a second: polling cannot become spawns", async () => {
  const h = harness();
  const a = sandbox("a");
  const b = sandbox("b");
  for (let i = 0; i < 50; i++) h.checks.start(a.sb, "a", a.rt);
  h.checks.start(b.sb, "b", b.rt);
  assert.deepEqual(h.started, ["a", "b"], "another sandbox has its own turn");
  h.advance(2000);
  h.checks.start(a.sb, "a", a.rt);
  assert.deepEqual(h.started, ["a", "b"], "not while a's first check still runs");
  await h.settle();
  h.advance(500);
  h.checks.start(a.sb, "a", a.rt);
  assert.deepEqual(h.started, ["a", "b", "a"], "after it ended, and a second after the first started");
  await h.settle();
  h.checks.start(a.sb, "a", a.rt);
  assert.deepEqual(h.started, ["a", "b", "a"], "not within a second of the last start");
});
