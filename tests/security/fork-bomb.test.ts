// A fork bomb holds a sandbox at its pids limit: the sandbox's control plane (files, exec,
// interrupt, close) must keep answering without a new process or thread inside it, and
// kill_processes (from the host) must end the bomb while the REPL keeps its variables.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { SandboxPool, api, bash, exec, hostdUrl } from "../support/api.js";
import { Sandbox } from "podflare";
import { cgroupDirs, cgroupExists, eventually, sandboxPids } from "../support/host.js";
import { runPythonSdk } from "../support/python-sdk.js";

// Small, so the bomb reaches it at once and costs the host little; the kernel itself runs
// about ten tasks (its threads).
const PIDS_MAX = 64;
const BOMB = "(setsid bash -c ':(){ :|:& };:' >/dev/null 2>&1 &)";

const pool = new SandboxPool();
after(() => pool.closeAll());

function pidsDir(id: string): string {
  const dir = cgroupDirs(id).find((d) => fs.existsSync(path.join(d, "pids.max")));
  assert.ok(dir, `sandbox ${id} has no pids cgroup`);
  return dir;
}

/** A sandbox whose pids limit the test lowers from the host (root), with `x = 41` in its REPL. */
async function smallSandbox(): Promise<string> {
  const id = await pool.create();
  fs.writeFileSync(path.join(pidsDir(id), "pids.max"), String(PIDS_MAX));
  assert.equal((await exec(id, "x = 41")).exitCode, 0);
  return id;
}

function limitHits(id: string): number {
  const text = fs.readFileSync(path.join(pidsDir(id), "pids.events"), "utf8");
  return Number(/^max (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Starts the bomb and waits until forks in the sandbox fail at the limit. */
async function bomb(id: string): Promise<void> {
  const before = limitHits(id);
  assert.equal((await bash(id, BOMB)).exitCode, 0);
  await eventually(() => limitHits(id) > before + 100, "the fork bomb did not reach the pids limit", 20_000);
}

async function upload(id: string, file: string, body: string): Promise<Response> {
  return api("PUT", `/v1/sandboxes/${id}/files?path=${encodeURIComponent(file)}`, body);
}

async function download(id: string, file: string): Promise<Response> {
  return api("GET", `/v1/sandboxes/${id}/files?path=${encodeURIComponent(file)}`);
}

let bombed: string;
before(async () => {
  bombed = await smallSandbox();
  await bomb(bombed);
});

test("during a fork bomb, uploads and downloads still answer", async () => {
  for (let i = 0; i < 8; i++) {
    const put = await upload(bombed, `/tmp/during-${i}.txt`, `payload ${i}`);
    assert.equal(put.status, 204, `upload ${i} during the bomb: ${put.status} ${await put.text()}`);
    const get = await download(bombed, `/tmp/during-${i}.txt`);
    assert.equal(get.status, 200, `download ${i} during the bomb: ${get.status}`);
    assert.equal(await get.text(), `payload ${i}`);
  }
  const del = await api("DELETE", `/v1/sandboxes/${bombed}/files?path=/tmp/during-0.txt`);
  assert.equal(del.status, 204);
});

test("during a fork bomb, a Python exec runs, and one past its timeout is interrupted", async () => {
  const r = await exec(bombed, "print(x + 1)");
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "42\n");
  const slow = await exec(bombed, "import time\ntime.sleep(60)", { timeout_ms: 1000 });
  assert.equal(slow.exitCode, 124, slow.stderr);
  assert.match(slow.stderr, /KeyboardInterrupt/);
  assert.equal((await exec(bombed, "print(x)")).stdout, "41\n");
});

test("a bash exec that starts a fork bomb, all deaf to SIGTERM, is still interrupted at its timeout, and the REPL keeps its state", async () => {
  const id = await smallSandbox();
  // The SIGKILL that follows the SIGTERM comes from a kernel thread made at start: at the
  // limit no timer thread can start (before: the control connection died, exit 137).
  const r = await bash(id, "trap '' TERM; (:(){ :|:& };:) 2>/dev/null & sleep 60", { timeout_ms: 3000 });
  assert.equal(r.exitCode, 124, r.stderr);
  assert.equal((await exec(id, "print(x)")).stdout, "41\n");
  assert.equal((await api("POST", `/v1/sandboxes/${id}/kill_processes`)).status, 200);
});

test("during a fork bomb, a bash exec that cannot start says why and what to do", async () => {
  const r = await bash(bombed, "echo started");
  // It may catch a moment below the limit; when it does not start, it must say why.
  if (r.exitCode !== 0) {
    assert.equal(r.exitCode, 127, r.stderr);
    assert.match(r.stderr, /process limit \(pids\).*kill_processes/);
  }
});

/** Starts a download and stops reading it once it answers 200, which holds a kernel thread. */
function holdDownload(id: string, file: string, held: http.IncomingMessage[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${hostdUrl()}/v1/sandboxes/${id}/files?path=${encodeURIComponent(file)}`, (res) => {
      if (res.statusCode === 200) {
        res.pause();
        held.push(res);
        resolve({ status: 200, body: "" });
        return;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

test("with every kernel connection thread busy, a file call at the limit answers 503 sandbox_at_process_limit", async () => {
  // Sparse: far more than the socket buffers between the guest and a client that stopped reading.
  assert.equal((await exec(bombed, "open('/tmp/big', 'wb').truncate(256 << 20)")).exitCode, 0);
  const held: http.IncomingMessage[] = [];
  const refused: string[] = [];
  try {
    for (let i = 0; i < 8 && refused.length < 2; i++) {
      const { status, body } = await holdDownload(bombed, "/tmp/big", held);
      if (status === 200) continue;
      assert.equal(status, 503, body);
      refused.push(body);
    }
  } finally {
    for (const res of held) res.destroy();
  }
  assert.ok(refused.length > 0, `${held.length} downloads held and none refused: the kernel started threads at the limit`);
  for (const body of refused) {
    const err = JSON.parse(body) as { code: string; error: string };
    assert.equal(err.code, "sandbox_at_process_limit");
    assert.match(err.error, /kill_processes/);
  }
  // The held threads are free again once their clients went away.
  await eventually(async () => (await download(bombed, "/tmp/during-1.txt")).status === 200, "file calls did not recover after the held downloads ended", 10_000);
});

test("kill_processes ends the fork bomb and the REPL keeps its variables", async () => {
  const res = await api("POST", `/v1/sandboxes/${bombed}/kill_processes`);
  const body = (await res.json()) as { killed: number };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.ok(body.killed > 10, `killed ${body.killed} processes of a fork bomb at ${PIDS_MAX} pids`);
  // Left: the sandbox's init and the guest kernel.
  assert.ok(sandboxPids(bombed).length <= 2, `processes left: ${sandboxPids(bombed).join(" ")}`);
  await eventually(async () => (await bash(bombed, "echo ok")).stdout === "ok\n", "bash did not start after kill_processes", 10_000);
  assert.equal((await exec(bombed, "print(x)")).stdout, "41\n");
});

test("restart_repl gives a fresh __main__ and keeps the sandbox's files; processes started from the old REPL end", async () => {
  const id = await smallSandbox();
  assert.equal((await upload(id, "/tmp/kept.txt", "kept")).status, 204);
  await bash(id, "nohup sleep 1001 >/dev/null 2>&1 &");
  await exec(id, "import subprocess; p = subprocess.Popen(['sleep', '1002'])");
  assert.equal((await bash(id, "ps -eo args | grep -c '^sleep 100[12]'")).stdout.trim(), "2");
  const res = await api("POST", `/v1/sandboxes/${id}/restart_repl`);
  assert.equal(res.status, 204, await res.text());
  assert.equal((await exec(id, "print('x' in globals())")).stdout, "False\n");
  await eventually(async () => (await bash(id, "ps -eo args | grep -c '^sleep 100[12]' || true")).stdout.trim() === "0", "the old REPL's background processes outlived restart_repl (docs/api.md says they end)");
  assert.equal(await (await download(id, "/tmp/kept.txt")).text(), "kept");
  assert.equal((await exec(id, "x = 1\nprint(x)")).stdout, "1\n");
});

test("kill_processes and restart_repl answer 404 for a sandbox that does not exist", async () => {
  for (const call of ["kill_processes", "restart_repl"]) {
    const res = await api("POST", `/v1/sandboxes/sbx_${"0".repeat(32)}/${call}`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, "sandbox_not_found");
  }
});

test("a sandbox is closed during a fork bomb: 204, and nothing of it is left", async () => {
  const id = await smallSandbox();
  await bomb(id);
  const res = await api("DELETE", `/v1/sandboxes/${id}`);
  assert.equal(res.status, 204);
  await eventually(() => !cgroupExists(id), "the bombed sandbox's cgroup outlived its close", 10_000);
});

function pidsCurrent(id: string): number {
  return Number(fs.readFileSync(path.join(pidsDir(id), "pids.current"), "utf8"));
}

test("a fork loop run in the REPL itself: interrupted by timeout_ms, then kill_processes frees every pid it took", async () => {
  const id = await smallSandbox();
  const idle = pidsCurrent(id); // the init and the kernel's threads
  const hitsBefore = limitHits(id);
  // Its copies wait a little after a failed fork: spinning ones would starve the kernel of the
  // sandbox's CPU quota, which is another limit than the one this test is about.
  const loop = "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.05)";
  const r = await exec(id, loop, { timeout_ms: 3000 });
  assert.equal(r.exitCode, 124, r.stderr);
  assert.ok(limitHits(id) > hitsBefore, "the fork loop never reached the pids limit");
  const res = await api("POST", `/v1/sandboxes/${id}/kill_processes`);
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as { killed: number }).killed > 0);
  // The loop's direct children were the kernel's: dead, they hold pids until it reaps them.
  await eventually(() => pidsCurrent(id) <= idle, `pids.current stays above ${idle}: zombies of the kernel`, 10_000);
  assert.equal((await bash(id, "echo ok")).stdout, "ok\n");
  assert.equal((await exec(id, "print(x)")).stdout, "41\n");
});

function oomKills(id: string): number {
  const dir = cgroupDirs(id).find((d) => fs.existsSync(path.join(d, "memory.oom_control")) || fs.existsSync(path.join(d, "memory.events")));
  assert.ok(dir, `sandbox ${id} has no memory cgroup`);
  const file = fs.existsSync(path.join(dir, "memory.events")) ? "memory.events" : "memory.oom_control";
  return Number(/^oom_kill (\d+)/m.exec(fs.readFileSync(path.join(dir, file), "utf8"))?.[1] ?? 0);
}

test("at the memory limit (a process that refills it as fast as it is OOM-killed), files, exec and kill_processes answer", async () => {
  const id = await pool.create({ memory_mb: 128 });
  assert.equal((await exec(id, "x = 41")).exitCode, 0);
  // Grows by 8 MiB until the OOM killer ends it, then starts again.
  const hog = "b = [bytearray(8 << 20) for _ in iter(int, 1)]";
  const before = oomKills(id);
  await bash(id, `(setsid bash -c 'while :; do python3 -c "${hog}"; done' >/dev/null 2>&1 &)`);
  await eventually(() => oomKills(id) > before + 2, "the memory hog was not OOM-killed again and again", 30_000);
  for (let i = 0; i < 4; i++) {
    const put = await upload(id, `/tmp/mem-${i}.txt`, `payload ${i}`);
    assert.equal(put.status, 204, `upload ${i} at the memory limit: ${put.status} ${await put.text()}`);
    assert.equal(await (await download(id, `/tmp/mem-${i}.txt`)).text(), `payload ${i}`);
  }
  const r = await exec(id, "print(x + 1)");
  assert.equal(r.stdout, "42\n", r.stderr);
  const res = await api("POST", `/v1/sandboxes/${id}/kill_processes`);
  assert.equal(res.status, 200);
  assert.ok(((await res.json()) as { killed: number }).killed >= 1);
  assert.ok(sandboxPids(id).length <= 2, `processes left: ${sandboxPids(id).join(" ")}`);
  assert.equal((await exec(id, "print(x)")).stdout, "41\n");
});

test("the SDKs: killProcesses / kill_processes and restartRepl / restart_repl", async () => {
  const sb = await Sandbox.create({ host: hostdUrl() });
  try {
    await sb.runCode("x = 1\nimport subprocess\np = subprocess.Popen(['sleep', '300'])");
    const { killed } = await sb.killProcesses();
    assert.equal(killed, 1);
    // Its Popen object still learns how it died: the kernel reaps only children no one waits for.
    assert.equal((await sb.runCode("print(x, p.wait())")).stdout, "1 -9\n");
    await sb.restartRepl();
    assert.equal((await sb.runCode("print('x' in globals())")).stdout, "False\n");
  } finally {
    await sb.close();
  }
  const py = runPythonSdk(
    [
      "from podflare import Sandbox",
      "with Sandbox() as sb:",
      "    sb.run_code('x = 1')",
      "    sb.run_code('sleep 300 &', 'bash')",
      "    print(sb.kill_processes())",
      "    print(sb.run_code('print(x)').stdout, end='')",
      "    sb.restart_repl()",
      "    print(sb.run_code(\"print('x' in globals())\").stdout, end='')",
    ].join("\n"),
    hostdUrl(),
  );
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout, "1\n1\nFalse\n");
});
