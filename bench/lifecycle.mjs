// Lifecycle figures (issue 4): freeze and resume of a Space holding 10 MB and 100 MB of REPL
// state, and pause/resume, through the TypeScript SDK. Baseline: re-running the setup code
// in a fresh sandbox (what an agent would do without Spaces).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { pickleToDisk, stopContSignals } from "./baselines.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const runs = Number(process.env.PODFLARE_BENCH_LIFECYCLE_RUNS ?? 5);

export async function runLifecycle() {
  const rows = [];
  const baselines = [];
  for (const mb of [10, 100]) {
    const setup = `state = [bytes(1024 * 1024) for _ in range(${mb})]`;
    const freeze = [];
    const resume = [];
    const rebuild = [];
    for (let i = 0; i < runs; i++) {
      const sb = await Sandbox.create({ persistent: true });
      await sb.runCode(setup);
      let spaceId;
      freeze.push(await time(async () => (spaceId = await sb.freeze())));
      let back;
      resume.push(await time(async () => (back = await Sandbox.resume(spaceId))));
      const r = await back.runCode("print(len(state))");
      if (r.stdout !== `${mb}\n`) throw new Error(`resume lost the state: ${r.stdout}${r.stderr}`);
      await back.close();
      rebuild.push(await time(async () => {
        const fresh = await Sandbox.create({ memoryMb: 512 });
        await fresh.runCode(setup);
        await fresh.close();
      }));
    }
    const base = { name: `fresh sandbox + setup (${mb} MB)`, stats: summarize(rebuild), samples: rebuild };
    const pickled = pickleToDisk(mb, runs);
    const floor = { name: `pickle ${mb} MB to disk in plain python3`, stats: summarize(pickled), samples: pickled };
    baselines.push(base, floor);
    rows.push({ name: `freeze, ${mb} MB of REPL state`, stats: summarize(freeze), samples: freeze, baseline: floor });
    rows.push({ name: `resume, ${mb} MB of REPL state`, stats: summarize(resume), samples: resume, baseline: base });
    if (mb === 10) {
      const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
      const py = spawnSync("/usr/bin/python3", [path.join(root, "bench/py_lifecycle.py"), String(runs), "spaces"], {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") },
        timeout: 600_000,
      });
      if (py.status !== 0) throw new Error(`python Spaces bench failed: ${py.stderr}`);
      const p = JSON.parse(py.stdout.trim().split("\n").pop());
      rows.push({ name: "freeze, 10 MB of REPL state, Python SDK", stats: summarize(p.freeze10), samples: p.freeze10, baseline: floor });
      rows.push({ name: "resume, 10 MB of REPL state, Python SDK", stats: summarize(p.resume10), samples: p.resume10, baseline: base });
    }
  }
  const pause = [];
  const resumeMem = [];
  const sb = await Sandbox.create();
  for (let i = 0; i < 20; i++) {
    pause.push(await time(() => sb.pause()));
    resumeMem.push(await time(() => sb.resume()));
  }
  await sb.close();
  const signals = await stopContSignals(20);
  const stopBase = { name: "SIGSTOP of one process", stats: summarize(signals.stop), samples: signals.stop };
  const contBase = { name: "SIGCONT of one process", stats: summarize(signals.cont), samples: signals.cont };
  baselines.push(stopBase, contBase);
  rows.push({ name: "pause (cgroup freezer, whole sandbox)", stats: summarize(pause), samples: pause, baseline: stopBase });
  rows.push({ name: "resume from pause", stats: summarize(resumeMem), samples: resumeMem, baseline: contBase });
  printTable(`lifecycle (${runs} runs each for Spaces, 20 for pause)`, rows.map((r) => ({ ...r, baseline: r.baseline })));
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })),
    baselines,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runLifecycle();
