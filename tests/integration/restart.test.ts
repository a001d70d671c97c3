// hostd restarts lose nothing: running sandboxes are re-adopted with their REPL state and
// background processes; leftovers of a crash are found and removed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cgroupParentFor, openStore } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";
import { api, closeSandbox, createSandbox, exec, execStarted } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { cgroupExists, cgroupParentExists, eventually, sandboxPids } from "../support/host.js";

const { stateDir, port } = ownHostd("restart", 10);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
});

after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json().catch(() => ({ sandboxes: [] }))) as {
    sandboxes: { id: string }[];
  };
  for (const s of list.sandboxes ?? []) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
  // `podflare down` leaves no mount, loop device or cgroup of this state dir behind.
  assert.equal(cgroupParentExists(stateDir), false, "the state dir's cgroup parent survived podflare down");
  assert.equal(fs.readFileSync("/proc/mounts", "utf8").includes(`${stateDir}/`), false, "something of the state dir (pool, favordynmods hierarchy) is still mounted");
});

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  test(`after ${signal} and a restart, sandboxes answer with their REPL state and background processes`, async () => {
    const id = await createSandbox({}, hostd.url);
    await exec(id, "survivor = 99", {}, hostd.url);
    await exec(id, "sleep 900 & echo $! > /tmp/bg.pid", { language: "bash" }, hostd.url);
    await hostd.stop(signal);
    hostd = await startTestHostd({ stateDir, port });
    assert.match(hostd.log(), /re-adopted/);
    assert.equal((await exec(id, "print(survivor)", {}, hostd.url)).stdout, "99\n");
    assert.equal((await exec(id, "kill -0 $(cat /tmp/bg.pid) && echo alive", { language: "bash" }, hostd.url)).stdout, "alive\n");
    await closeSandbox(id, hostd.url);
  });
}

test("SIGTERM during creates: every create hostd took is answered, and every sandbox after the restart is one its caller heard of", async () => {
  // Cold creates (a size the warm pool has not) take a while: some are under way at the signal.
  type Answer = { status: number; body: { id?: string; code?: string } };
  const sent: Promise<Answer>[] = Array.from({ length: 30 }, () =>
    api("POST", "/v1/sandboxes", { memory_mb: 640 }, hostd.url)
      .then(async (res) => ({ status: res.status, body: (await res.json().catch(() => ({}))) as Answer["body"] }))
      .catch((err: Error) => ({ status: 0, body: { code: err.message } })),
  );
  // The first answer: the others are still being made when the signal comes.
  await Promise.race(sent);
  await hostd.stop("SIGTERM");
  const answers = await Promise.all(sent);
  hostd = await startTestHostd({ stateDir, port });
  const heard = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.id!));
  const live = ((await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
  const orphans = live.filter((id) => !heard.has(id));
  assert.deepEqual(orphans, [], `sandboxes whose create was never answered: ${JSON.stringify(answers.map((a) => a.status))}`);
  for (const id of heard) assert.ok(live.includes(id), `a create answered 200 left no sandbox: ${id}`);
  for (const a of answers) if (a.status !== 200) assert.ok(a.status === 503 || a.status === 0, `refused as ${a.status} ${JSON.stringify(a.body)}`);
  for (const id of live) await closeSandbox(id, hostd.url);
});

test("a SIGTERM of hostd does not interrupt code running in a sandbox: it runs on to its end, as after a crash", async () => {
  const id = await createSandbox({}, hostd.url);
  const running = await execStarted(id, "import time\nprint('started', flush=True)\nfor j in range(10):\n    open('/tmp/progress', 'a').write(f'{j}\\n')\n    time.sleep(0.2)", hostd.url);
  void running.rest.catch(() => undefined);
  await hostd.stop("SIGTERM");
  hostd = await startTestHostd({ stateDir, port });
  await eventually(async () => (await exec(id, "wc -l < /tmp/progress", { language: "bash" }, hostd.url)).stdout.trim() === "10", "the code stopped when hostd did", 15_000);
  await closeSandbox(id, hostd.url);
});

test("a kill -9 while a freeze's saved REPL state is in the sandbox: after the restart the state file is gone, the REPL kept", async () => {
  // What a freeze writes before it snapshots the root; a crash between the two left it there.
  const id = await createSandbox({}, hostd.url);
  await exec(id, "kept = 7", {}, hostd.url);
  const planted = await exec(id, "mkdir -p /var/lib/podflare && head -c 20000000 /dev/zero > /var/lib/podflare/space-state.pkl && echo ok", { language: "bash" }, hostd.url);
  assert.equal(planted.stdout, "ok\n", planted.stderr);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  await eventually(async () => (await exec(id, "test -e /var/lib/podflare/space-state.pkl && echo left || echo gone", { language: "bash" }, hostd.url)).stdout === "gone\n", "the saved REPL state a crash left is still in the sandbox", 15_000);
  assert.equal((await exec(id, "print(kept)", {}, hostd.url)).stdout, "7\n");
  await closeSandbox(id, hostd.url);
});

test("a paused sandbox stays paused across a kill -9 and restart, and resumes with its state", async () => {
  const id = await createSandbox({}, hostd.url);
  await exec(id, "paused_state = 'kept'", {}, hostd.url);
  assert.equal((await api("POST", `/v1/sandboxes/${id}/pause`, undefined, hostd.url)).status, 200);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  const info = (await (await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url)).json()) as { state: string };
  assert.equal(info.state, "paused");
  assert.equal((await exec(id, "print(paused_state)", {}, hostd.url)).stdout, "kept\n");
  await closeSandbox(id, hostd.url);
});

test("a sandbox a crash left frozen (a kill -9 in the middle of its fork) is thawed on restart and answers with its state", async () => {
  // A fork freezes its parent while the children's roots are snapshot; a kill -9 of hostd in
  // that window (an outside tester hit it 4 times in 10 ms of a 58 ms fork) left the parent
  // frozen, and the next start, unable to reach its kernel, removed it with the user's state.
  const id = await createSandbox({}, hostd.url);
  await exec(id, "kept = 'after the crash'", {}, hostd.url);
  await hostd.stop("SIGKILL");
  const cgroups = new CgroupManager({ parent: cgroupParentFor(stateDir) });
  await cgroups.freeze(id); // where the crash left it
  hostd = await startTestHostd({ stateDir, port });
  assert.doesNotMatch(hostd.log(), new RegExp(`could not re-adopt ${id}`));
  assert.equal((await exec(id, "print(kept)", {}, hostd.url)).stdout, "after the crash\n");
  const info = (await (await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url)).json()) as { state: string };
  assert.equal(info.state, "ready");
  await closeSandbox(id, hostd.url);
});

test("a kill -9 of hostd in the middle of an exec: after restart the sandbox answers", async () => {
  const id = await createSandbox({}, hostd.url);
  await exec(id, "before = 'kept'", {}, hostd.url);
  // In flight for sure: its first line came back before hostd is killed.
  const running = await execStarted(id, "print('started', flush=True)\nimport time; time.sleep(1); after = 'ran'", hostd.url);
  await hostd.stop("SIGKILL");
  await running.rest;
  hostd = await startTestHostd({ stateDir, port });
  const seen = async () => (await exec(id, "print(before, globals().get('after'))", {}, hostd.url)).stdout;
  await eventually(async () => (await seen()) === "kept ran\n", "the exec in flight did not finish inside the sandbox while hostd was down", 10_000);
  await closeSandbox(id, hostd.url);
});

/**
 * A sandbox with `kept = 'yes'` whose endless exec (with `timeoutMs`) hostd lost to a kill -9,
 * and the restarted hostd. The exec's answer stays open until hostd dies: a client that hangs
 * up would interrupt the code itself.
 */
async function sandboxWithLostExec(timeoutMs: number): Promise<string> {
  const id = await createSandbox({}, hostd.url);
  await exec(id, "kept = 'yes'", {}, hostd.url);
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "print('spinning', flush=True)\nwhile True: pass", timeout_ms: timeoutMs }, hostd.url);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  assert.ok(!(await reader.read()).done, "the exec ended before its first output");
  void (async () => {
    while (!(await reader.read()).done);
  })().catch(() => undefined);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  return id;
}

test("an exec hostd lost in a kill -9 is interrupted at its own timeout_ms, and the next exec runs with the REPL's state", async () => {
  // Before, nothing enforced the lost call's timeout after the restart: an endless loop kept
  // the REPL, the next exec waited behind it until its own timeout, and was then taken for an
  // interrupt the REPL ignored: the REPL was killed and its state lost.
  const id = await sandboxWithLostExec(3000);
  const r = await exec(id, "print(kept)", { timeout_ms: 20_000 }, hostd.url);
  assert.equal(r.stdout, "yes\n", r.stderr);
  assert.equal(r.exitCode, 0);
  await closeSandbox(id, hostd.url);
});

test("an exec that times out while a lost one still runs ahead of it is cancelled, and the REPL is not killed", async () => {
  const id = await sandboxWithLostExec(600_000);
  const r = await exec(id, "print(kept)", { timeout_ms: 2000 }, hostd.url);
  assert.doesNotMatch(r.stderr, /ignored the interrupt/, "a queued exec's timeout killed the REPL");
  assert.match(r.stderr, /TimeoutError: execution exceeded timeout_ms=2000 and was interrupted; the REPL kept its state/);
  await closeSandbox(id, hostd.url);
});

test("leftovers of a crash are removed on start: a sandbox the store forgot, and one whose processes died", async () => {
  const forgotten = await createSandbox({}, hostd.url);
  const dead = await createSandbox({}, hostd.url);
  await hostd.stop("SIGKILL");
  // A crash between "sandbox started" and "row written" leaves a sandbox with no row.
  const store = openStore(stateDir);
  store.sandboxes.delete(forgotten);
  store.close();
  // A sandbox whose every process died while hostd was down.
  for (const pid of sandboxPids(dead)) process.kill(pid, "SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  for (const id of [forgotten, dead]) {
    assert.equal((await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url)).status, 404);
    assert.equal(cgroupExists(id), false, `cgroup of ${id} left behind`);
    assert.deepEqual(sandboxPids(id), []);
    assert.equal(fs.existsSync(path.join(stateDir, "pool/sandboxes", id)), false, `root of ${id} left behind`);
    assert.equal(fs.existsSync(path.join(stateDir, "run", id)), false, `run dir of ${id} left behind`);
  }
});

test("a hostd whose port is taken says so before it sets anything up: no pool, no network, no cgroups", () => {
  // It used to get through storage, templates and the network (the DNS forwarder child
  // included) before listen failed, and left all of them for `podflare down`.
  const dup = ownHostd("restart-dup", 10);
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../packages/cli/dist/main.js");
  const netnsBefore = netnsNames();
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, PODFLARE_STATE_DIR: dup.stateDir, PODFLARE_HOSTD_ADDR: `127.0.0.1:${port}`,
      PODFLARE_TEMPLATES: "default", PODFLARE_POOL_SIZE: "0", PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates" };
    delete env.PODFLARE_API_KEYS;
    const r = spawnSync(process.execPath, [cli, "serve"], { env, encoding: "utf8", timeout: 180_000 });
    assert.equal(r.status, 1, `hostd did not exit by itself (signal ${r.signal}): ${r.stderr.slice(-2000)}`);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*PODFLARE_HOSTD_ADDR`));
    assert.doesNotMatch(r.stderr, /template default|network:|pool image/, "it set things up before finding the port taken");
    assert.equal(fs.existsSync(path.join(dup.stateDir, "pool.img")), false, "a pool image was made");
    assert.equal(fs.existsSync(path.join(dup.stateDir, "pool")), false, "a pool was mounted");
    assert.equal(cgroupParentExists(dup.stateDir), false, "a cgroup parent was made");
    assert.deepEqual(netnsNames().filter((n) => !netnsBefore.includes(n)), [], "a network namespace was made");
  } finally {
    teardownStateDir(dup.stateDir);
  }
});

function netnsNames(): string[] {
  return spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").map((l) => l.split(" ")[0] ?? "").filter(Boolean);
}
