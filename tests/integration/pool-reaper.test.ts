// Warm pool, pause/resume, the idle and lifetime reaper, and timeout extension (issue 4),
// against the shared test hostd.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";
import { cgroupDirs, cpuShare, cpuSharesUnderParent, eventually, sandboxPids, until } from "../support/host.js";
import fs from "node:fs";

const pool = new SandboxPool();
after(() => pool.closeAll());

/** Checks `ok` again and again for `forMs`: a state that must hold, not one to wait for. */
async function holds(ok: () => Promise<boolean>, what: string, forMs: number): Promise<void> {
  const end = Date.now() + forMs;
  while (Date.now() < end) assert.ok(await ok(), what);
}
/**
 * Whether the kernel has frozen a process: since Linux 6.1 a frozen task is TASK_FROZEN, which
 * /proc shows as "D"; older kernels park it in the freezer (wchan __refrigerator / do_freezer_trap).
 */
const frozenProc = (pid: number) => {
  try {
    const wchan = fs.readFileSync(`/proc/${pid}/wchan`, "utf8");
    const status = /^State:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
    return { frozen: status.startsWith("D") || /refrigerator|freezer/.test(wchan), wchan, status };
  } catch {
    return { frozen: true, wchan: "exited", status: "exited" }; // gone between listing and reading
  }
};
const capacity = async () => (await (await api("GET", "/v1/capacity")).json()) as { pool: { size: number; free: number; hits: number; misses: number; hit_rate: number } };
const state = async (id: string) => {
  const res = await api("GET", `/v1/sandboxes/${id}`);
  return res.status === 404 ? "gone" : ((await res.json()) as { state: string }).state;
};

async function poolFull(timeoutMs = 30_000): Promise<void> {
  await until(async () => {
    const { pool: p } = await capacity();
    return p.free >= p.size;
  }, "the warm pool did not refill", timeoutMs);
}

test("a default create is a pool hit: counted, and the sandbox has never run anyone's code", async () => {
  await poolFull();
  const before = (await capacity()).pool;
  assert.ok(before.size >= 1);
  // How fast a hit is, is a figure for bench/lifecycle.mjs ("create from a full warm pool"), not a verdict.
  const id = await createSandbox();
  const after = (await capacity()).pool;
  assert.equal(after.hits, before.hits + 1);
  const fresh = await exec(id, "print(sorted(k for k in globals() if not k.startswith('__')))");
  assert.equal(fresh.stdout, "[]\n");
  assert.equal((await bash(id, "ls -A /tmp /root | grep -v '^/' | grep -v '^$' | grep -v '^\\.' | wc -l; hostname")).stdout, `0\n${id}\n`);
  // Pool boots run in the background CPU class; the sandbox handed out leaves it for its key's
  // share (KEY_CPU_WEIGHT divided among the key's sandboxes: key-cpu-shares.ts).
  const share = cpuShare(id);
  const background = share.normal === 1024 ? 2 : 1;
  await until(async () => (cpuShare(id).value > background ? true : undefined), () => `a pooled sandbox handed out keeps the background CPU share (${cpuShare(id).value})`);
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
  const before = new Set(sandboxPids(id));
  await bash(id, "(while :; do date +%s%N > /tmp/tick.new; mv /tmp/tick.new /tmp/tick; sleep 0.05; done) &");
  // The background child (a bash subshell) is a process of the sandbox the exec left behind.
  const child = await until(async () => sandboxPids(id).find((p) => !before.has(p) && /bash/.test(fs.readFileSync(`/proc/${p}/comm`, "utf8"))), "the background bash child did not show up in the sandbox's cgroup");
  assert.ok(!frozenProc(child).frozen, `the background child looks frozen before the pause: ${JSON.stringify(frozenProc(child))}`);
  const res = await api("POST", `/v1/sandboxes/${id}/pause`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { state: string }).state, "paused");
  // The kernel says the whole group is frozen (v1 freezer.state, or v2 cgroup.events)...
  const v1 = cgroupDirs(id).map((d) => `${d}/freezer.state`).find((f) => fs.existsSync(f));
  const v2 = cgroupDirs(id).map((d) => `${d}/cgroup.events`).find((f) => fs.existsSync(f));
  assert.ok(v1 || v2, "the sandbox has no freezer");
  if (v1) assert.equal(fs.readFileSync(v1, "utf8").trim(), "FROZEN");
  else assert.match(fs.readFileSync(v2!, "utf8"), /^frozen 1$/m);
  // ...and so does every process in it, the background child included.
  const pids = sandboxPids(id);
  assert.ok(pids.includes(child), "the background child left the sandbox's cgroup");
  for (const pid of pids) {
    const p = frozenProc(pid);
    assert.ok(p.frozen, `process ${pid} (${fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()}) is not frozen: wchan ${p.wchan}, state ${p.status}`);
  }
  const tick = await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/tick`).then((r) => r.text());
  // Reading a file resumed the sandbox; the ticker runs again from here.
  assert.equal(await state(id), "ready");
  assert.ok(tick.length > 0);
  await until(async () => (await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/tick`).then((r) => r.text())) !== tick, "the background child did not run again after the resume");
  const r = await exec(id, "print('awake')");
  assert.equal(r.stdout, "awake\n");
  await api("POST", `/v1/sandboxes/${id}/pause`).then((x) => x.text());
  assert.equal(await state(id), "paused");
  assert.equal((await exec(id, "print(2)")).stdout, "2\n");
  assert.equal(await state(id), "ready");
  const resumed = await api("POST", `/v1/sandboxes/${id}/resume`);
  assert.equal(resumed.status, 200);
});

test("an exec whose timeout comes while its sandbox is paused is interrupted once resumed, and the REPL keeps its state (it was killed as if it ignored the interrupt)", async () => {
  const id = await pool.create();
  await exec(id, "keep = 'precious'");
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "import time\nprint('begun', flush=True)\nfor i in range(100): time.sleep(0.1)", timeout_ms: 1500 });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("begun")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the exec ended before it began: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  assert.equal((await api("POST", `/v1/sandboxes/${id}/pause`)).status, 200);
  // Paused past the timeout and the 2 s grace hostd gives an interrupt before it kills the REPL.
  const pausedAt = Date.now();
  await eventually(() => Date.now() - pausedAt > 1500 + 2000 + 1500, "the timeout and the kill grace have passed while paused", 10_000);
  assert.equal((await api("POST", `/v1/sandboxes/${id}/resume`)).status, 200);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const exit = JSON.parse(text.trim().split("\n").at(-1)!) as { type: string; data: number };
  assert.deepEqual([exit.type, exit.data], ["exit", 124], text.slice(-600));
  assert.doesNotMatch(text, /ignored the interrupt/);
  assert.equal((await exec(id, "print(keep)")).stdout, "precious\n", "the REPL lost its state");
});

test("an idle sandbox is paused after idle_timeout_s, then closed; it is never frozen unless persistent", async () => {
  const spacesBefore = ((await (await api("GET", "/v1/spaces")).json()) as { spaces: unknown[] }).spaces.length;
  const id = await createSandbox({ idle_timeout_s: 1 });
  // Polling with GET is itself the check that looking at a sandbox is not activity.
  await until(async () => (await state(id)) === "paused", "the idle sandbox was not paused");
  await until(async () => (await state(id)) === "gone", "the paused idle sandbox was not closed");
  const spacesAfter = ((await (await api("GET", "/v1/spaces")).json()) as { spaces: unknown[] }).spaces.length;
  assert.equal(spacesAfter, spacesBefore, "a non-persistent sandbox was frozen by the reaper");
});

test("a sandbox paused by a call is kept paused while an idle one beside it is closed; a call then wakes it with its state", async () => {
  const held = await createSandbox({ idle_timeout_s: 1 });
  await exec(held, "kept = 'while paused'");
  const paused = await api("POST", `/v1/sandboxes/${held}/pause`);
  assert.equal(paused.status, 200, await paused.text());
  // One left idle beside it, made after it: closed by the reaper after twice its idle timeout.
  const idle = await createSandbox({ idle_timeout_s: 1 });
  await until(async () => (await state(idle)) === "gone", "the idle sandbox was not closed");
  assert.equal(await state(held), "paused", "the reaper closed a sandbox a call had paused");
  assert.equal((await exec(held, "print(kept)")).stdout, "while paused\n");
  await closeSandbox(held);
});

test("an idle persistent sandbox is frozen to a Space instead of closed", async () => {
  const id = await createSandbox({ idle_timeout_s: 1, persistent: true });
  await exec(id, "kept = 'by the reaper'");
  await until(async () => (await state(id)) === "gone", "the idle persistent sandbox was not retired");
  const { spaces } = (await (await api("GET", "/v1/spaces")).json()) as { spaces: { space_id: string; source_id: string; reason: string }[] };
  const space = spaces.find((s) => s.source_id === id);
  assert.ok(space, "no Space was made for the idle persistent sandbox");
  assert.equal(space.reason, "idle");
  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`);
  const back = (await res.json()) as { id: string };
  assert.equal((await exec(back.id, "print(kept)")).stdout, "by the reaper\n");
  await closeSandbox(back.id);
});

test("an idle persistent sandbox whose REPL state does not fit in its disk_mb is frozen with its files (it was closed, losing them too)", async () => {
  const id = await createSandbox({ idle_timeout_s: 1, persistent: true, disk_mb: 128 });
  await bash(id, "head -c 90M /dev/urandom > /root/important.dat && sha256sum /root/important.dat > /root/sum");
  await exec(id, "import os\nbig = os.urandom(60 << 20)");
  await until(async () => (await state(id)) === "gone", "the idle persistent sandbox was not retired", 60_000);
  const { spaces } = (await (await api("GET", "/v1/spaces")).json()) as { spaces: { space_id: string; source_id: string; manifest: { failed: { name: string }[] } }[] };
  const space = spaces.find((s) => s.source_id === id);
  assert.ok(space, "no Space was made: the sandbox and its files were lost");
  assert.ok(space.manifest.failed.some((f) => f.name === "(the REPL's state)"), JSON.stringify(space.manifest));
  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`);
  const back = (await res.json()) as { id: string; not_restored: { name: string }[] };
  assert.equal(res.status, 200, JSON.stringify(back));
  assert.ok(back.not_restored.some((f) => f.name === "(the REPL's state)"), JSON.stringify(back.not_restored));
  assert.equal((await bash(back.id, "sha256sum -c /root/sum")).stdout, "/root/important.dat: OK\n");
  assert.equal((await bash(back.id, "test -e /var/lib/podflare/space-state.pkl && echo left || echo none")).stdout, "none\n");
  await closeSandbox(back.id);
});

test("activity resets the idle clock", async () => {
  const id = await pool.create({ idle_timeout_s: 2 });
  // Calls back to back for longer than the idle timeout: it never gets paused.
  await holds(async () => {
    await exec(id, "pass");
    return (await state(id)) === "ready";
  }, "a sandbox in use was paused", 3000);
});

test("a sandbox past max_lifetime_s is gone, busy or not", async () => {
  const idle = await createSandbox({ max_lifetime_s: 2 });
  const busy = await createSandbox({ max_lifetime_s: 2 });
  // The busy one runs an exec far longer than its lifetime; the answer ends when it expires.
  const running = exec(busy, "sleep 30", { language: "bash", timeout_ms: 60_000 });
  await until(async () => (await state(idle)) === "gone", "the idle sandbox outlived max_lifetime_s");
  await until(async () => (await state(busy)) === "gone", "the busy sandbox outlived max_lifetime_s");
  assert.equal((await running).exitCode, 125, "the running exec did not end as expired");
});

test("a fork child never outlives its parent: with less than a second of the parent's lifetime left, the fork is refused (410)", async () => {
  const id = await createSandbox({ max_lifetime_s: 2 });
  const info = (await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { created_at: string };
  const born = Date.parse(info.created_at);
  // Past 1 s of its 2: what is left rounds down to no whole second.
  await until(async () => Date.now() - born > 1100 || undefined, "a second to pass");
  const res = await api("POST", `/v1/sandboxes/${id}/fork`, { n: 1 });
  const body = (await res.json()) as { code?: string; error?: string; children?: string[] };
  assert.equal(res.status, 410, JSON.stringify(body));
  assert.equal(body.code, "sandbox_expired");
  assert.match(body.error ?? "", /never outlives its parent/);
});

test("POST /timeout extends the idle timeout; bad values are 400", async () => {
  const id = await pool.create({ idle_timeout_s: 1 });
  const res = await api("POST", `/v1/sandboxes/${id}/timeout`, { idle_timeout_s: 3600 });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { idle_timeout_s: 3600, clamped: [] });
  // Past the old 1 s (and its pause) it stays ready.
  await holds(async () => (await state(id)) === "ready", "the extended sandbox was paused", 1600);
  const bad = await api("POST", `/v1/sandboxes/${id}/timeout`, { idle_timeout_s: "soon" });
  assert.equal(bad.status, 400);
});
