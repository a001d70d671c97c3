// Lifecycle figures (issue 4): freeze and resume of a Space holding 10 MB and 100 MB of REPL
// state, and in-memory pause / resume, through the TypeScript SDK and then the Python SDK
// (bench/py_lifecycle.py). Baselines: re-running the setup code in a fresh sandbox (what an
// agent would do without Spaces), pickling the state to disk, SIGSTOP / SIGCONT.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { pickleToDisk, stopContSignals } from "./baselines.mjs";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const { lifecycleRuns: runs, pauseRuns } = knobs;
const SIZES_MB = [10, 100];
const row = (name, samples, baseline) => ({ name, stats: summarize(samples), samples, baseline });

async function tsSpaces(mb) {
  const setup = `state = [bytes(1024 * 1024) for _ in range(${mb})]`;
  const out = { freeze: [], resume: [], rebuild: [] };
  for (let i = 0; i < runs; i++) {
    const sb = await Sandbox.create({ persistent: true });
    await sb.runCode(setup);
    let spaceId;
    out.freeze.push(await time(async () => (spaceId = await sb.freeze())));
    let back;
    out.resume.push(await time(async () => (back = await Sandbox.resume(spaceId))));
    const r = await back.runCode("print(len(state))");
    if (r.stdout !== `${mb}\n`) throw new Error(`resume lost the state: ${r.stdout}${r.stderr}`);
    await back.close();
    out.rebuild.push(await time(async () => {
      const fresh = await Sandbox.create({ memoryMb: 512 });
      await fresh.runCode(setup);
      await fresh.close();
    }));
  }
  return out;
}

async function tsPause() {
  const out = { pause: [], resume: [] };
  const sb = await Sandbox.create();
  for (let i = 0; i < pauseRuns; i++) {
    out.pause.push(await time(() => sb.pause()));
    out.resume.push(await time(() => sb.resume()));
  }
  await sb.close();
  return out;
}

const url = process.env.PODFLARE_HOSTD_URL ?? "http://127.0.0.1:7070";

async function poolFull() {
  for (let i = 0; i < 600; i++) {
    const { pool } = await (await fetch(`${url}/v1/capacity`)).json();
    if (!pool || pool.free >= pool.size) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the warm pool did not refill");
}

/** Creates of the default size taken from a full warm pool (a hit), and cold ones (a miss), over REST. */
export async function poolCreates() {
  const out = { hit: [], miss: [] };
  const create = async (body) => {
    const res = await fetch(`${url}/v1/sandboxes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const { id } = await res.json();
    if (!id) throw new Error(`create failed: ${res.status}`);
    return id;
  };
  const close = (id) => fetch(`${url}/v1/sandboxes/${id}`, { method: "DELETE" }).then((r) => r.arrayBuffer());
  for (let i = 0; i < pauseRuns; i++) {
    await poolFull();
    let id;
    out.hit.push(await time(async () => (id = await create({}))));
    await close(id);
    out.miss.push(await time(async () => (id = await create({ memory_mb: 512 }))));
    await close(id);
  }
  return out;
}

function pyLifecycle() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const py = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_lifecycle.py"), String(runs), String(pauseRuns)], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
    timeout: 900_000,
  });
  if (py.status !== 0) throw new Error(`python lifecycle bench failed: ${py.stderr}`);
  return JSON.parse(py.stdout.trim().split("\n").pop());
}

export async function runLifecycle() {
  const rows = [];
  const baselines = [];
  const ts = {};
  for (const mb of SIZES_MB) ts[mb] = await tsSpaces(mb);
  const tsP = await tsPause();
  const creates = await poolCreates();
  const py = pyLifecycle();
  for (const mb of SIZES_MB) {
    const pickled = pickleToDisk(mb, runs);
    const floor = { name: `pickle ${mb} MB to disk in plain python3`, stats: summarize(pickled), samples: pickled };
    const tsBase = { name: `fresh sandbox + setup (${mb} MB), TS SDK`, stats: summarize(ts[mb].rebuild), samples: ts[mb].rebuild };
    const pyBase = { name: `fresh sandbox + setup (${mb} MB), Python SDK`, stats: summarize(py[mb].rebuild), samples: py[mb].rebuild };
    baselines.push(floor, tsBase, pyBase);
    rows.push(row(`freeze, ${mb} MB of REPL state, TS SDK`, ts[mb].freeze, floor));
    rows.push(row(`freeze, ${mb} MB of REPL state, Python SDK`, py[mb].freeze, floor));
    rows.push(row(`resume, ${mb} MB of REPL state, TS SDK`, ts[mb].resume, tsBase));
    rows.push(row(`resume, ${mb} MB of REPL state, Python SDK`, py[mb].resume, pyBase));
  }
  const signals = await stopContSignals(pauseRuns);
  const stopBase = { name: "SIGSTOP of one process", stats: summarize(signals.stop), samples: signals.stop };
  const contBase = { name: "SIGCONT of one process", stats: summarize(signals.cont), samples: signals.cont };
  baselines.push(stopBase, contBase);
  rows.push(row("pause (cgroup freezer, whole sandbox), TS SDK", tsP.pause, stopBase));
  rows.push(row("pause (cgroup freezer, whole sandbox), Python SDK", py.pause, stopBase));
  rows.push(row("resume from pause, TS SDK", tsP.resume, contBase));
  rows.push(row("resume from pause, Python SDK", py.resume_paused, contBase));
  const coldBase = { name: "cold create (a pool miss: memory_mb 512), REST", stats: summarize(creates.miss), samples: creates.miss };
  baselines.push(coldBase);
  rows.push(row("create from a full warm pool (a hit), REST", creates.hit, coldBase));
  printTable(`lifecycle (${runs} runs each for Spaces, ${pauseRuns} for pause and pool creates)`, rows);
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })),
    baselines,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runLifecycle();
