// Core figures (issue 2): cold create, hot exec `print(6*7)` and create → exec → close, through
// the TypeScript SDK, the Python SDK and raw HTTP, with baselines measured side by side.
// Usage: PODFLARE_HOSTD_URL=http://127.0.0.1:7070 node bench/core.mjs (counts: bench/knobs.mjs)
import { spawnSync } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { bareFork, bwrapPerCall, jupyterHotExec, unixSocketRoundTrip } from "./baselines.mjs";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { coreRuns: runs, createRuns } = knobs;
const url = process.env.PODFLARE_HOSTD_URL ?? "http://127.0.0.1:7070";
/** The raw-HTTP scenario's key, as the SDKs take it (PODFLARE_API_KEY). */
const keyHeader = process.env.PODFLARE_API_KEY ? { authorization: `Bearer ${process.env.PODFLARE_API_KEY}` } : {};

/**
 * Waits until the warm pool is full, so a create measures a pool hit. Against a hostd with keys
 * (PODFLARE_API_KEY for the SDKs), the pool is read with PODFLARE_ADMIN_KEY.
 */
async function poolFull() {
  const admin = process.env.PODFLARE_ADMIN_KEY;
  const headers = admin ? { authorization: `Bearer ${admin}` } : {};
  for (let i = 0; i < 4000; i++) {
    const cap = await (await fetch(`${url}/v1/capacity`, { headers })).json();
    if (cap.pool.free >= cap.pool.size) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tsScenarios() {
  const out = { hot_exec: [], create: [], cycle: [] };
  const sb = await Sandbox.create();
  await sb.runCode("print(6*7)");
  for (let i = 0; i < runs; i++) {
    out.hot_exec.push(await time(async () => {
      const r = await sb.runCode("print(6*7)");
      if (r.stdout !== "42\n") throw new Error(r.stdout);
    }));
  }
  await sb.close();
  for (let i = 0; i < createRuns; i++) {
    await poolFull();
    let s;
    out.create.push(await time(async () => (s = await Sandbox.create())));
    await s.close();
  }
  out.create_miss = [];
  for (let i = 0; i < createRuns; i++) {
    let s;
    out.create_miss.push(await time(async () => (s = await Sandbox.create({ memoryMb: 512 }))));
    await s.close();
  }
  await poolFull(); // the seed's shape starts from a warm pool
  for (let i = 0; i < runs; i++) {
    out.cycle.push(await time(async () => {
      const s = await Sandbox.create();
      await s.runCode("echo ready", "bash");
      await s.close();
    }));
  }
  return out;
}

/** Hot exec over a keep-alive HTTP connection with no SDK: what the server itself costs. */
async function rawHttpHotExec() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (p, body) => new Promise((resolve, reject) => {
    const req = http.request(url + p, { method: "POST", agent, headers: { "content-type": "application/json", ...keyHeader } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
  const { id } = JSON.parse(await post("/v1/sandboxes", {}));
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await time(() => post(`/v1/sandboxes/${id}/exec`, { code: "print(6*7)" })));
  await new Promise((r) => http.request(url + `/v1/sandboxes/${id}`, { method: "DELETE", agent, headers: keyHeader }, (res) => { res.resume(); res.on("end", r); }).end());
  agent.destroy();
  return samples;
}

function pyScenarios() {
  const r = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_core.py"), String(runs), String(createRuns)], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python"), PODFLARE_HOSTD_URL: url },
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`python bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

export async function runCore() {
  const floor = { name: "unix socket round trip", stats: summarize(await unixSocketRoundTrip(1000)) };
  const forkFloor = bareFork(500, 20);
  // The guest kernel's heap is in transparent huge pages (glibc.malloc.hugetlb=1): the same
  // floor with that setting shows what fork itself now costs.
  const forkFloorHuge = bareFork(500, 20, { hugePages: true });
  const FLOOR = "bare os.fork() of a 500 MB python3 (floor for fork)";
  const FLOOR_HUGE = "bare os.fork() of a 500 MB python3, heap in huge pages as the guest kernel's";
  const bwrapSamples = await bwrapPerCall(runs);
  const bwrap = bwrapSamples && { name: "bwrap python3 per call", stats: summarize(bwrapSamples) };
  const jupSamples = jupyterHotExec(runs);
  const jupyter = jupSamples && { name: "jupyter kernel exec", stats: summarize(jupSamples) };
  const ts = await tsScenarios();
  const raw = await rawHttpHotExec();
  const py = pyScenarios();
  const rows = [
    { name: "hot exec print(6*7), raw HTTP keep-alive", stats: summarize(raw), baseline: jupyter ?? floor },
    { name: "hot exec print(6*7), TypeScript SDK", stats: summarize(ts.hot_exec), baseline: jupyter ?? floor },
    { name: "hot exec print(6*7), Python SDK", stats: summarize(py.hot_exec), baseline: jupyter ?? floor },
    { name: "pool-hit create, TypeScript SDK", stats: summarize(ts.create), baseline: bwrap ?? undefined },
    { name: "pool-hit create, Python SDK", stats: summarize(py.create), baseline: bwrap ?? undefined },
    { name: "pool-miss create (512 MB), TypeScript SDK", stats: summarize(ts.create_miss), baseline: bwrap ?? undefined },
    { name: "pool-miss create (512 MB), Python SDK", stats: summarize(py.create_miss), baseline: bwrap ?? undefined },
    { name: "create → echo ready (bash) → close, TS SDK", stats: summarize(ts.cycle), baseline: bwrap ?? undefined },
    { name: "create → echo ready (bash) → close, Py SDK", stats: summarize(py.cycle), baseline: bwrap ?? undefined },
  ];
  const baselines = [floor, bwrap, jupyter, { name: FLOOR, stats: summarize(forkFloor) }, { name: FLOOR_HUGE, stats: summarize(forkFloorHuge) }].filter(Boolean);
  printTable(`core (${runs} runs each; hosted Podflare publishes 6 ms server-side pool hit, 43 ms in-cloud full cycle p50 — over the internet, for reference only)`, [
    ...rows,
    ...baselines.map((b) => ({ name: `baseline: ${b.name}`, stats: b.stats })),
  ]);
  const withSamples = (r, samples) => ({ name: r.name, stats: r.stats, baseline: r.baseline?.name ?? null, samples });
  const sampleSets = [raw, ts.hot_exec, py.hot_exec, ts.create, py.create, ts.create_miss, py.create_miss, ts.cycle, py.cycle];
  return {
    rows: rows.map((r, i) => withSamples(r, sampleSets[i])),
    baselines: [
      { name: floor.name, stats: floor.stats },
      { name: FLOOR, stats: summarize(forkFloor), samples: forkFloor },
      { name: FLOOR_HUGE, stats: summarize(forkFloorHuge), samples: forkFloorHuge },
      ...(bwrap ? [{ name: bwrap.name, stats: bwrap.stats, samples: bwrapSamples }] : []),
      ...(jupyter ? [{ name: jupyter.name, stats: jupyter.stats, samples: jupSamples }] : []),
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runCore();
}
