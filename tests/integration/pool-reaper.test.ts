// Warm pool, pause/resume, the idle and lifetime reaper, and timeout extension (issue 4),
// against the shared test hostd.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";
import { cgroupDirs, cpuShare, cpuSharesUnderParent } from "../support/host.js";
import fs from "node:fs";

const pool = new SandboxPool();
after(() => pool.closeAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const capacity = async () => (await (await api("GET", "/v1/capacity")).json()) as { pool: { size: number; free: number; hits: number; misses: number; hit_rate: number } };
const state = async (id: string) => {
  const res = await api("GET", `/v1/sandboxes/${id}`);
  return res.status === 404 ? "gone" : ((await res.json()) as { state: string }).state;
};

async function poolFull(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { pool: p } = await capacity();
    if (p.free >= p.size) return;
    await sleep(100);
  }
  throw new Error("the warm pool did not refill");
}

test("a default create is a pool hit: fast, counted, and the sandbox has never run anyone's code", async () => {
  await poolFull();
  const before = (await capacity()).pool;
  assert.ok(before.size >= 1);
  const t0 = performance.now();
  const id = await createSandbox();
  const ms = performance.now() - t0;
  const after = (await capacity()).pool;
  assert.equal(after.hits, before.hits + 1);
  assert.ok(ms < 100, `a pool hit took ${ms.toFixed(1)} ms`);
  const fresh = await exec(id, "print(sorted(k for k in globals() if not k.startswith('__')))");
  assert.equal(fresh.stdout, "[]\n");
  assert.equal((await bash(id, "ls -A /tmp /root | grep -v '^/' | grep -v '^$' | grep -v '^\\.' | wc -l; hostname")).stdout, `0\n${id}\n`);
  // Pool boots run in the background CPU class; the sandbox handed out is back to normal.
  const share = cpuShare(id);
  assert.equal(share.value, share.normal, "a pooled sandbox handed out keeps the background CPU share");
  await closeSandbox(id);
  await poolFull();
  assert.ok(cpuSharesUnderParent().some((v) => v < share.normal), "the warm pool's sandboxes are not in the background CPU class");
});

test("a burst past the pool: every create gets a ready sandbox that never ran code; nothing leaks, the pool refills", async () => {
  await poolFull();
  const start = await capacity();
  const base = ((await (await api("GET", "/v1/capacity")).json()) as { sandboxes: number }).sandboxes;
  // Twice the pool, back to back: the second half are misses, booted cold while refill waits.
  const ids: string[] = [];
  for (let i = 0; i < start.pool.size * 2; i++) ids.push(await createSandbox());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    const r = await exec(id, "import socket; print(sorted(k for k in globals() if not k.startswith('__')), socket.gethostname())");
    assert.equal(r.stdout, `['socket'] ${id}\n`);
  }
  const during = (await (await api("GET", "/v1/capacity")).json()) as { sandboxes: number };
  assert.equal(during.sandboxes, base + ids.length, "a create left an extra sandbox behind, or lost one");
  for (const id of ids) await closeSandbox(id);
  await poolFull();
  const end = (await (await api("GET", "/v1/capacity")).json()) as { sandboxes: number; pool: { free: number; size: number } };
  assert.equal(end.sandboxes, base);
  assert.equal(end.pool.free, end.pool.size, "the pool holds more (or fewer) than its size");
});

test("a custom size boots cold and counts as a miss", async () => {
  const before = (await capacity()).pool;
  const id = await pool.create({ memory_mb: 512 });
  const after = (await capacity()).pool;
  assert.equal(after.misses, before.misses + 1);
  assert.equal(after.hits, before.hits);
  assert.equal((await exec(id, "print(1)")).stdout, "1\n");
});

test("pause freezes every process; any exec resumes it transparently", async () => {
  const id = await pool.create();
  await bash(id, "(while :; do date +%s%N > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; sleep 0.05; done) &");
  const res = await api("POST", `/v1/sandboxes/${id}/pause`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { state: string }).state, "paused");
  const freezer = cgroupDirs(id).map((d) => `${d}/freezer.state`).find((f) => fs.existsSync(f));
  if (freezer) assert.equal(fs.readFileSync(freezer, "utf8").trim(), "FROZEN");
  const tick1 = await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/tick`).then((r) => r.text());
  await sleep(300);
  const tick2 = await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/tick`).then((r) => r.text());
  // Reading a file resumed the sandbox; the ticker runs again from here.
  assert.equal(await state(id), "ready");
  assert.ok(tick1.length > 0 && tick2.length > 0);
  const r = await exec(id, "print('awake')");
  assert.equal(r.stdout, "awake\n");
  await api("POST", `/v1/sandboxes/${id}/pause`).then((x) => x.text());
  assert.equal(await state(id), "paused");
  assert.equal((await exec(id, "print(2)")).stdout, "2\n");
  assert.equal(await state(id), "ready");
  const resumed = await api("POST", `/v1/sandboxes/${id}/resume`);
  assert.equal(resumed.status, 200);
});

test("an idle sandbox is paused after idle_timeout_s, then closed; it is never frozen unless persistent", async () => {
  const spacesBefore = ((await (await api("GET", "/v1/spaces")).json()) as { spaces: unknown[] }).spaces.length;
  const id = await createSandbox({ idle_timeout_s: 1 });
  await sleep(1600);
  assert.equal(await state(id), "paused", "looking at a sandbox (GET) is not activity");
  await sleep(1400);
  assert.equal(await state(id), "gone");
  const spacesAfter = ((await (await api("GET", "/v1/spaces")).json()) as { spaces: unknown[] }).spaces.length;
  assert.equal(spacesAfter, spacesBefore, "a non-persistent sandbox was frozen by the reaper");
});

test("an idle persistent sandbox is frozen to a Space instead of closed", async () => {
  const id = await createSandbox({ idle_timeout_s: 1, persistent: true });
  await exec(id, "kept = 'by the reaper'");
  await sleep(3200);
  assert.equal(await state(id), "gone");
  const { spaces } = (await (await api("GET", "/v1/spaces")).json()) as { spaces: { space_id: string; source_id: string; reason: string }[] };
  const space = spaces.find((s) => s.source_id === id);
  assert.ok(space, "no Space was made for the idle persistent sandbox");
  assert.equal(space.reason, "idle");
  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`);
  const back = (await res.json()) as { id: string };
  assert.equal((await exec(back.id, "print(kept)")).stdout, "by the reaper\n");
  await closeSandbox(back.id);
});

test("activity resets the idle clock", async () => {
  const id = await pool.create({ idle_timeout_s: 2 });
  for (let i = 0; i < 6; i++) {
    await sleep(600);
    await exec(id, "pass");
  }
  assert.equal(await state(id), "ready");
});

test("a sandbox past max_lifetime_s is gone, busy or not", async () => {
  const id = await createSandbox({ max_lifetime_s: 1 });
  await sleep(2000);
  assert.equal(await state(id), "gone");
});

test("POST /timeout extends the idle timeout; bad values are 400", async () => {
  const id = await pool.create({ idle_timeout_s: 1 });
  const res = await api("POST", `/v1/sandboxes/${id}/timeout`, { idle_timeout_s: 3600 });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { idle_timeout_s: 3600, clamped: [] });
  await sleep(1600);
  assert.equal(await state(id), "ready");
  const bad = await api("POST", `/v1/sandboxes/${id}/timeout`, { idle_timeout_s: "soon" });
  assert.equal(bad.status, 400);
});
