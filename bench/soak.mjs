// Soak: steady create/exec/fork/close load from both SDKs, slow readers that stop reading an
// exec of `yes` and then hang up, and a periodic fork bomb in a sandbox of its own (ended with
// kill_processes), for PODFLARE_SOAK_S seconds (default 600). It prints what hostd holds — RSS,
// open fds, its child processes — and what the host holds for it — cgroups, router links,
// btrfs subvolumes — before the load, after a warm-up of the same load (PODFLARE_SOAK_WARMUP_S,
// default 120) and at the end, each time with the host settled (pool full, sandboxes closed,
// btrfs cleaner done), plus hostd's RSS every 30 s under load. Nothing may grow: the end is
// compared with the warm-up figures (cold → warm-up is the JIT and V8's heap finding their size).
// Run it alone: `PODFLARE_BENCHES=soak npm run bench`.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cgroupParentFor } from "@podflare/hostd";
import { routerNames } from "@podflare/hostd/network";
import { Sandbox } from "podflare";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const url = process.env.PODFLARE_HOSTD_URL || "http://127.0.0.1:7070";
const stateDir = process.env.PODFLARE_STATE_DIR || "/var/lib/podflare";
const apiKey = process.env.PODFLARE_API_KEY;
const authHeaders = apiKey ? { authorization: `Bearer ${apiKey}` } : {};

/** hostd's pid: given by run-bench, else the `serve` process listening on our state dir. */
function hostdPid() {
  const given = Number(process.env.PODFLARE_BENCH_HOSTD_PID);
  if (given > 0) return given;
  for (const p of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const env = fs.readFileSync(`/proc/${p}/environ`, "utf8").split("\0");
      if (cmd.includes("serve") && env.includes(`PODFLARE_STATE_DIR=${stateDir}`)) return Number(p);
    } catch {
      /* gone, or not ours to read */
    }
  }
  throw new Error(`no hostd found for ${stateDir}: set PODFLARE_BENCH_HOSTD_PID`);
}

function countDirs(dir) {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) n += 1 + countDirs(path.join(dir, e.name));
  return n;
}

function childrenOf(pid) {
  const out = [];
  for (const p of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** What hostd and the host hold for it right now. */
function probe(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rssMb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
  const parent = cgroupParentFor(stateDir);
  const cgroupRoot = [`/sys/fs/cgroup/memory/${parent}`, `/sys/fs/cgroup/${parent}`].find((d) => fs.existsSync(d));
  const netns = routerNames(parent).netns;
  const links = spawnSync("ip", ["-n", netns, "-o", "link", "show"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length;
  const subvolumes = spawnSync("btrfs", ["subvolume", "list", path.join(stateDir, "pool")], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length;
  return {
    hostd_rss_mb: rssMb,
    hostd_fds: fs.readdirSync(`/proc/${pid}/fd`).length,
    hostd_children: childrenOf(pid).length,
    cgroups: cgroupRoot ? countDirs(cgroupRoot) : 0,
    router_links: links,
    subvolumes,
  };
}

async function api(method, p, body) {
  const res = await fetch(`${url}${p}`, { method, headers: { ...authHeaders, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** Waits until no sandbox is left, the pool is full and btrfs has removed what was deleted. */
async function settle() {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const { sandboxes } = await api("GET", "/v1/sandboxes");
    const cap = await api("GET", "/v1/capacity");
    const poolFull = !cap.pool || cap.pool.free >= cap.pool.size;
    if (sandboxes.length === 0 && poolFull) break;
    for (const s of sandboxes) await fetch(`${url}/v1/sandboxes/${s.id}`, { method: "DELETE", headers: authHeaders }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
  }
  spawnSync("btrfs", ["subvolume", "sync", path.join(stateDir, "pool")], { stdio: "ignore", timeout: 120_000 });
  // Closed sandboxes' cgroups and links are reclaimed in the background: wait for the count to hold.
  let last = "";
  for (let i = 0; i < 100; i++) {
    const now = JSON.stringify(probe(hostdPid()), ["cgroups", "router_links", "subvolumes"]);
    if (now === last) break;
    last = now;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** An exec of `yes` whose client reads 64 KB now and then, then hangs up mid-stream. */
function slowReader(id, holdMs) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const body = JSON.stringify({ code: "yes soak-slow-reader", language: "bash" });
    let read = 0;
    const sock = net.connect(Number(u.port), u.hostname, () => {
      const auth = apiKey ? `Authorization: Bearer ${apiKey}\r\n` : "";
      sock.write(`POST /v1/sandboxes/${id}/exec HTTP/1.1\r\nHost: ${u.host}\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    sock.on("data", (chunk) => {
      read += chunk.length;
      sock.pause();
      setTimeout(() => sock.resume(), 250);
    });
    sock.on("error", () => undefined);
    setTimeout(() => {
      sock.destroy();
      resolve(read);
    }, holdMs);
  });
}

const PY_LOAD = `
import json, sys, threading, time
from podflare import Sandbox
until = time.time() + float(sys.argv[1])
counts, errors, lock = {"cycles": 0}, [], threading.Lock()
def worker():
    while time.time() < until:
        try:
            with Sandbox() as sb:
                r = sb.run_code("import json\\nstate = list(range(1000))")
                assert r.exit_code == 0, "setup failed: " + r.stdout + r.stderr
                kids = sb.fork(n=2)
                for k in kids:
                    r = k.run_code("print(sum(state))")
                    assert r.stdout == "499500\\n", r.stdout + r.stderr
                    k.close()
                sb.upload(b"x" * 100000, "/tmp/blob")
                assert len(sb.download("/tmp/blob")) == 100000
            with lock:
                counts["cycles"] += 1
        except Exception as e:
            with lock:
                errors.append(repr(e))
threads = [threading.Thread(target=worker) for _ in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"cycles": counts["cycles"], "errors": errors}))
`;

export async function runSoak() {
  const pid = hostdPid();
  const durationS = knobs.soakS;
  const warmupS = knobs.soakWarmupS;
  await settle();
  const cold = probe(pid);

  const tsCycles = [];
  const counts = { ts_cycles: 0, python_cycles: 0, slow_readers: 0, slow_reader_mb: 0, fork_bombs: 0, bomb_control_ok: 0, bomb_control_failed: 0 };
  const errors = [];
  const note = (where, err) => errors.push(`${where}: ${String(err?.message ?? err).slice(0, 300)}`);

  async function tsCycle() {
    const sb = await Sandbox.create();
    try {
      const setup = await sb.runCode("state = list(range(1000))");
      if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stdout}${setup.stderr}`);
      const kids = await sb.fork(2);
      for (const k of kids) {
        const r = await k.runCode("print(sum(state))");
        if (r.stdout !== "499500\n") throw new Error(`fork child lost the state: ${r.stdout}${r.stderr}`);
        await k.close();
      }
      const r = await sb.runCode("echo soak", "bash");
      if (r.stdout !== "soak\n") throw new Error(r.stdout + r.stderr);
    } finally {
      await sb.close();
    }
  }

  async function slowReaderRound() {
    const sb = await Sandbox.create();
    try {
      counts.slow_reader_mb += (await slowReader(sb.id, 3000)) / 1e6;
      counts.slow_readers++;
    } finally {
      await sb.close();
    }
  }

  async function forkBombRound() {
    const sb = await Sandbox.create();
    try {
      // The bomb outlives its exec (bash's background children keep running); while it runs the
      // sandbox's control plane must still answer.
      await sb.runCode(":(){ :|:& };: ; sleep 1", "bash", { timeoutMs: 3000 }).catch(() => undefined);
      counts.fork_bombs++;
      const checks = [
        () => sb.runCode("print(6 * 7)"),
        () => sb.upload("soak", "/tmp/soak.txt"),
        () => sb.download("/tmp/soak.txt"),
      ];
      // Last: end the bomb from the host and check the REPL answers again.
      checks.push(async () => {
        await sb.killProcesses();
        const r = await sb.runCode("print(7 * 6)");
        if (r.stdout !== "42\n") throw new Error(`after kill_processes: ${r.stdout}${r.stderr}`);
      });
      for (const check of checks) {
        try {
          await check();
          counts.bomb_control_ok++;
        } catch (err) {
          counts.bomb_control_failed++;
          note("control plane under a fork bomb", err);
        }
      }
    } finally {
      await sb.close();
    }
  }

  /** The whole load for `seconds`: both SDKs, slow readers, the fork bomb; counts into `counts`. */
  async function load(seconds) {
    const until = Date.now() + seconds * 1000;
    const py = spawn("/usr/bin/python3", ["-c", PY_LOAD, String(seconds)], {
      env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let pyOut = "";
    let pyErr = "";
    py.stdout.on("data", (d) => (pyOut += d));
    py.stderr.on("data", (d) => (pyErr += d));
    const pyDone = new Promise((r) => py.on("exit", r));
    const loop = async (fn, pauseMs, where) => {
      while (Date.now() < until) {
        try {
          await fn();
        } catch (err) {
          note(where, err);
        }
        if (pauseMs) await new Promise((r) => setTimeout(r, Math.min(pauseMs, Math.max(0, until - Date.now()))));
      }
    };
    const tsWorker = () => loop(async () => {
      tsCycles.push(await time(tsCycle));
      counts.ts_cycles++;
    }, 0, "TS cycle");
    await Promise.all([tsWorker(), tsWorker(), loop(slowReaderRound, 5000, "slow reader"), loop(forkBombRound, 60_000, "fork bomb")]);
    await pyDone;
    try {
      const r = JSON.parse(pyOut.trim().split("\n").pop());
      counts.python_cycles += r.cycles;
      for (const e of r.errors) note("Python cycle", e);
    } catch {
      note("Python load", `exited without a result: ${pyErr.slice(-500)}`);
    }
  }

  // Warm-up: the same load for a while, so that the later figures are not the JIT and V8's heap
  // finding their working size; its counts and samples are dropped.
  console.log(`\nsoak: ${warmupS} s of warm-up load`);
  await load(warmupS);
  tsCycles.length = 0;
  errors.length = 0;
  for (const k of Object.keys(counts)) counts[k] = 0;
  await settle();
  const warm = probe(pid);

  console.log(`soak: ${durationS} s of load (2 TS workers, 2 Python threads, slow readers every 5 s, a fork bomb every 60 s)`);
  // hostd's RSS under load, every 30 s: a leak climbs all along, a heap at its working size does not.
  const t0 = Date.now();
  const rssTrend = [];
  const sampler = setInterval(() => rssTrend.push({ s: Math.round((Date.now() - t0) / 1000), rss_mb: probe(pid).hostd_rss_mb }), 30_000);
  await load(durationS);
  clearInterval(sampler);
  console.log(`hostd RSS under load (s: MB): ${rssTrend.map((x) => `${x.s}: ${x.rss_mb.toFixed(0)}`).join(", ")}`);

  await settle();
  const end = probe(pid);

  console.log("\nsoak: what hostd and the host hold (settled: no sandbox open, pool full, btrfs cleaner done)");
  console.log(["".padEnd(16), "cold".padStart(10), "warm".padStart(10), "end".padStart(10), "end / warm-up".padStart(15)].join(" "));
  const growth = {};
  for (const k of Object.keys(end)) {
    growth[k] = warm[k] ? end[k] / warm[k] : end[k] === 0 ? 1 : Infinity;
    const f = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)).padStart(10);
    console.log([k.padEnd(16), f(cold[k]), f(warm[k]), f(end[k]), `${growth[k].toFixed(3)}`.padStart(15)].join(" "));
  }
  console.log(`load done: ${JSON.stringify(counts)}`);
  if (errors.length) console.log(`ERRORS (${errors.length}), first: ${errors.slice(0, 5).join(" | ")}`);
  const flat = Object.values(growth).every((g) => g <= 1.1);
  console.log(flat ? "flat: every figure within 10% of the warm-up" : "GREW: some figure is more than 10% over the warm-up");

  const rows = tsCycles.length ? [{ name: "TS cycle: create, fork(2), exec in each, close", stats: summarize(tsCycles), samples: tsCycles }] : [];
  if (rows.length) printTable("soak: cycle latency under the whole load", rows);
  return { rows, baselines: [], duration_s: durationS, warmup_s: warmupS, rss_trend: rssTrend, cold, warm, end, growth, flat, counts, errors: errors.slice(0, 20), error_count: errors.length };
}

if (import.meta.url === `file://${process.argv[1]}`) await runSoak();
