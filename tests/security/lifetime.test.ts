// Red team: max_lifetime_s is a cap (issue 13 item 3). A tenant cannot outlive it by keeping an
// exec running or by calling the sandbox again and again: past its lifetime the running exec is
// interrupted, ends with exit 125 and a SandboxExpired line, and the sandbox is closed — or frozen
// to a Space when persistent. Against the shared test hostd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";
import { until } from "../support/host.js";

const EXPIRED = 125;

async function execStream(id: string, code: string, language: "python" | "bash") {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, language, timeout_ms: 120_000 });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: string | number });
  const last = events[events.length - 1]!;
  assert.equal(last.type, "exit", `the stream must end with an exit event: ${text.slice(-400)}`);
  return {
    exit: last.data as number,
    stdout: events.filter((e) => e.type === "stdout").map((e) => e.data).join(""),
    stderr: events.filter((e) => e.type === "stderr").map((e) => e.data).join(""),
  };
}

const gone = async (id: string) => (await api("GET", `/v1/sandboxes/${id}`)).status === 404;

for (const [language, code] of [
  ["python", "import time\nfor _ in range(200):\n    time.sleep(0.1)\nprint('outlived the lifetime')"],
  ["bash", "sleep 20; echo outlived the lifetime"],
] as const) {
  test(`a busy sandbox past max_lifetime_s is interrupted and closed: ${language} sleep 20 ends with exit 125`, async () => {
    const id = await createSandbox({ max_lifetime_s: 3 });
    const r = await execStream(id, code, language);
    assert.equal(r.exit, EXPIRED, `exit ${r.exit}; stderr: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /outlived/);
    assert.match(r.stderr, /SandboxExpired: the sandbox reached max_lifetime_s=3/);
    assert.ok(await until(() => gone(id), "the expired sandbox is still there"));
  });
}

test("calling a sandbox again and again does not extend max_lifetime_s (idle resets, lifetime never)", async () => {
  const id = await createSandbox({ max_lifetime_s: 3, idle_timeout_s: 3600 });
  const status = await until(async () => {
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "pass" });
    const body = await res.text();
    if (res.status === 200) {
      assert.match(body, /"type":"exit"/);
      return false;
    }
    return { status: res.status, body };
  }, "a sandbox called without pause outlived its max_lifetime_s", 30_000);
  assert.equal(status.status, 404, status.body);
  assert.ok(await gone(id));
});

test("a persistent sandbox busy past max_lifetime_s is interrupted, then frozen to a Space that keeps its state", async () => {
  const id = await createSandbox({ max_lifetime_s: 3, persistent: true });
  await exec(id, "kept = 'past the lifetime'");
  const r = await execStream(id, "import time\nfor _ in range(200):\n    time.sleep(0.1)\nprint('outlived the lifetime')", "python");
  assert.equal(r.exit, EXPIRED, `exit ${r.exit}; stderr: ${r.stderr}`);
  assert.match(r.stderr, /SandboxExpired: .*frozen to a Space/);
  const space = await until(async () => {
    const { spaces } = (await (await api("GET", "/v1/spaces")).json()) as { spaces: { space_id: string; source_id: string; reason: string }[] };
    return spaces.find((s) => s.source_id === id);
  }, "no Space was made for the expired persistent sandbox");
  assert.equal(space.reason, "lifetime");
  assert.ok(await gone(id));
  const back = await api("POST", `/v1/spaces/${space.space_id}/resume`);
  assert.equal(back.status, 200);
  const resumed = ((await back.json()) as { id: string }).id;
  assert.equal((await exec(resumed, "print(kept)")).stdout, "past the lifetime\n");
  await closeSandbox(resumed);
});

test("forking does not extend max_lifetime_s: a child gets what is left of its parent's", async () => {
  const parent = await createSandbox({ max_lifetime_s: 30 });
  const info = async (id: string) => (await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { created_at: string; applied: { max_lifetime_s: number } };
  const bornMs = Date.parse((await info(parent)).created_at);
  // Old enough that a fresh lifetime would be visibly longer than what is left.
  await until(async () => Date.now() - bornMs >= 2100, "time did not pass");
  const fork = await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 1 });
  assert.equal(fork.status, 200);
  const [child] = ((await fork.json()) as { children: string[] }).children;
  const c = await info(child!);
  const ageS = Math.floor((Date.parse(c.created_at) - bornMs) / 1000);
  assert.ok(ageS >= 2);
  assert.ok(c.applied.max_lifetime_s <= 30 - ageS, `the child lives ${c.applied.max_lifetime_s} s from its fork, its parent had ${30 - ageS} s left`);
  await closeSandbox(child!);
  await closeSandbox(parent);
});

test("lifetime_s ends a busy sandbox sooner; POST …/timeout moves it either way but never past max_lifetime_s, nor a fork child's past its parent's max_lifetime_s", async () => {
  const info = async (id: string) => (await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { created_at: string; applied: { max_lifetime_s: number; lifetime_s?: number } };
  // Raised past max_lifetime_s: clamped to it, and said so.
  const id = await createSandbox({ max_lifetime_s: 60, lifetime_s: 20 });
  assert.equal((await info(id)).applied.lifetime_s, 20);
  const raise = await api("POST", `/v1/sandboxes/${id}/timeout`, { lifetime_s: 600 });
  assert.deepEqual(await raise.json(), { idle_timeout_s: 300, lifetime_s: 60, clamped: ["lifetime_s"] });
  // A fork child made now ends when its parent would; it cannot be moved past that.
  const fork = await api("POST", `/v1/sandboxes/${id}/fork`, { n: 1 });
  const [child] = ((await fork.json()) as { children: string[] }).children;
  const c = await info(child!);
  assert.ok(c.applied.max_lifetime_s <= 60 && c.applied.lifetime_s === undefined, JSON.stringify(c.applied));
  const childRaise = await api("POST", `/v1/sandboxes/${child}/timeout`, { lifetime_s: 3600 });
  assert.ok(((await childRaise.json()) as { lifetime_s: number }).lifetime_s <= 60);
  await closeSandbox(child!);
  // A parent whose lifetime_s ends it before its cap: its child ends then too, but can be moved
  // as the parent could, up to what is left of the parent's max_lifetime_s.
  const early = await createSandbox({ max_lifetime_s: 600, lifetime_s: 30 });
  const [earlyChild] = ((await (await api("POST", `/v1/sandboxes/${early}/fork`, { n: 1 })).json()) as { children: string[] }).children;
  const e = (await info(earlyChild!)).applied;
  assert.ok(e.max_lifetime_s >= 590 && e.max_lifetime_s <= 600 && e.lifetime_s! >= 20 && e.lifetime_s! <= 30, JSON.stringify(e));
  const moved = await api("POST", `/v1/sandboxes/${earlyChild}/timeout`, { lifetime_s: 300 });
  assert.deepEqual(await moved.json(), { idle_timeout_s: 300, lifetime_s: 300, clamped: [] });
  const capped = (await (await api("POST", `/v1/sandboxes/${earlyChild}/timeout`, { lifetime_s: 3600 })).json()) as { lifetime_s: number; clamped: string[] };
  assert.ok(capped.lifetime_s <= 600 && capped.clamped.includes("lifetime_s"), JSON.stringify(capped));
  await closeSandbox(earlyChild!);
  await closeSandbox(early);
  // Lowered again, to 3 s from now: the running code is interrupted at it, as at max_lifetime_s.
  const lifetime = Math.ceil((Date.now() - Date.parse((await info(id)).created_at)) / 1000) + 3;
  assert.equal((await api("POST", `/v1/sandboxes/${id}/timeout`, { lifetime_s: lifetime })).status, 200);
  const r = await execStream(id, "sleep 20; echo outlived the lifetime", "bash");
  assert.equal(r.exit, EXPIRED, `exit ${r.exit}; stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`SandboxExpired: the sandbox reached lifetime_s=${lifetime} `));
  assert.ok(await until(() => gone(id), "the sandbox outlived its lifetime_s"));
});
