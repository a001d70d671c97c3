// E2B compatibility cost (issue 16): `runCode("1+1")` hot through @e2b/code-interpreter against
// hostd vs our own TypeScript SDK's exec, `commands.run("true")` through `e2b` (envd's
// Process.Start stream) vs our bash exec and our processes API (start + wait), and
// `Sandbox.create` through `e2b` vs ours (both pool hits), in one run, samples interleaved so
// both sides see the same machine. Goal: the E2B paths within 1.5× of ours at p50. Beside them,
// the same hot runCode calls and creates against an instant stand-in server (bench/e2b-floor.mjs):
// each SDK's own client cost, and so the best ratio any server could reach on this machine.
// Usage: PODFLARE_HOSTD_URL=http://127.0.0.1:7070 node bench/e2b.mjs (counts: bench/knobs.mjs)
import { Sandbox as E2bSandbox } from "e2b";
import { Sandbox as E2bInterpreter } from "@e2b/code-interpreter";
import { Sandbox } from "podflare";
import { startStandIn } from "./e2b-floor.mjs";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const url = process.env.PODFLARE_HOSTD_URL ?? "http://127.0.0.1:7070";
const { coreRuns: runs, createRuns } = knobs;

/** Waits until the warm pool is full, so each create measures a pool hit. */
async function poolFull() {
  for (let i = 0; i < 4000; i++) {
    const cap = await (await fetch(`${url}/v1/capacity`)).json();
    if (!cap.pool || cap.pool.free >= cap.pool.size) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runE2b() {
  // docs/e2b.md: the SDKs need nothing but these three variables.
  process.env.E2B_API_URL = url;
  process.env.E2B_SANDBOX_URL = url;
  process.env.E2B_API_KEY ??= process.env.PODFLARE_API_KEY || "any-key-while-auth-is-off";

  const e2b = await E2bInterpreter.create("base");
  const ours = await Sandbox.create();
  const standIn = await startStandIn();
  const e2bFloor = await E2bInterpreter.create("base", { apiUrl: standIn.url, sandboxUrl: standIn.url });
  const oursFloor = await Sandbox.create({ host: standIn.url });
  const floor = { e2b: [], ours: [] };
  const hot = { e2b: [], ours: [] };
  const cmd = { e2b: [], exec: [], proc: [] };
  try {
    await e2b.runCode("1+1");
    await ours.runCode("1+1");
    await e2bFloor.runCode("1+1");
    await oursFloor.runCode("1+1");
    await e2b.commands.run("true");
    await ours.runCode("true", "bash");
    for (let i = 0; i < runs; i++) {
      hot.e2b.push(await time(async () => {
        const ex = await e2b.runCode("1+1");
        if (ex.error) throw new Error(ex.error.value);
      }));
      hot.ours.push(await time(async () => {
        const r = await ours.runCode("1+1");
        if (r.exitCode !== 0) throw new Error(r.stderr);
      }));
      floor.e2b.push(await time(() => e2bFloor.runCode("1+1")));
      floor.ours.push(await time(() => oursFloor.runCode("1+1")));
      cmd.e2b.push(await time(async () => {
        const r = await e2b.commands.run("true");
        if (r.exitCode !== 0) throw new Error(r.stderr);
      }));
      cmd.exec.push(await time(async () => {
        const r = await ours.runCode("true", "bash");
        if (r.exitCode !== 0) throw new Error(r.stderr);
      }));
      cmd.proc.push(await time(async () => {
        const p = await ours.processes.start("true");
        const done = await ours.processes.wait(p.pid);
        if (done.exitCode !== 0) throw new Error(`exit ${done.exitCode}`);
      }));
    }
  } finally {
    await e2b.kill();
    await ours.close();
  }

  // Both SDKs' create paths compiled first: without this the first creates measure V8 warming up
  // the e2b SDK's code more than the create (20 samples do not wash that out).
  for (let i = 0; i < 5; i++) {
    await poolFull();
    await (await E2bSandbox.create()).kill();
    await poolFull();
    await (await Sandbox.create()).close();
  }
  const create = { e2b: [], ours: [] };
  // Each real create follows a wait for the pool to refill (the one before took a sandbox),
  // both sides alike: so the client has been idle for about as long before each.
  const refillWaitsMs = [];
  const refilled = async () => {
    const t0 = performance.now();
    await poolFull();
    refillWaitsMs.push(performance.now() - t0);
  };
  for (let i = 0; i < createRuns; i++) {
    await refilled();
    let s;
    create.e2b.push(await time(async () => (s = await E2bSandbox.create())));
    await s.kill();
    await refilled();
    let o;
    create.ours.push(await time(async () => (o = await Sandbox.create())));
    await o.close();
  }
  // The same creates against the stand-in, each after as long a wait as the real ones had (the
  // median refill wait), spent the same way (polling capacity every 50 ms): a stand-in create
  // takes no pool sandbox, so there is no refill to wait for.
  const idleMs = [...refillWaitsMs].sort((a, b) => a - b)[Math.floor(refillWaitsMs.length / 2)];
  const waitLikeRefill = async () => {
    const until = performance.now() + idleMs;
    while (performance.now() < until) {
      await (await fetch(`${url}/v1/capacity`)).json();
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(50, until - performance.now()))));
    }
  };
  const floorCreate = { e2b: [], ours: [] };
  const atStandIn = { apiUrl: standIn.url, sandboxUrl: standIn.url };
  try {
    for (let i = 0; i < createRuns; i++) {
      await waitLikeRefill();
      floorCreate.e2b.push(await time(() => E2bSandbox.create(atStandIn)));
      await waitLikeRefill();
      floorCreate.ours.push(await time(() => Sandbox.create({ host: standIn.url })));
    }
  } finally {
    standIn.close();
  }

  const oursHot = { name: "hot exec 1+1, Podflare TypeScript SDK", stats: summarize(hot.ours) };
  const oursCmd = { name: "bash exec \"true\", Podflare TypeScript SDK", stats: summarize(cmd.exec) };
  const oursCreate = { name: "pool-hit create, Podflare TypeScript SDK", stats: summarize(create.ours) };
  const rows = [
    oursHot,
    { name: "hot runCode(\"1+1\"), @e2b/code-interpreter", stats: summarize(hot.e2b), baseline: oursHot },
    oursCmd,
    { name: "processes.start(\"true\") + wait, Podflare TypeScript SDK", stats: summarize(cmd.proc), baseline: oursCmd },
    { name: "commands.run(\"true\"), e2b", stats: summarize(cmd.e2b), baseline: oursCmd },
    oursCreate,
    { name: "pool-hit Sandbox.create, e2b", stats: summarize(create.e2b), baseline: oursCreate },
  ];
  printTable(`e2b compatibility (${runs} hot runs, ${createRuns} creates each; goal: E2B paths within 1.5× of ours at p50)`, rows);
  const floorOurs = { name: "runCode(\"1+1\"), Podflare TypeScript SDK, instant stand-in", stats: summarize(floor.ours) };
  const floorE2b = { name: "runCode(\"1+1\"), @e2b/code-interpreter, instant stand-in", stats: summarize(floor.e2b), baseline: floorOurs };
  const floorOursCreate = { name: "Sandbox.create, Podflare TypeScript SDK, instant stand-in", stats: summarize(floorCreate.ours) };
  const floorE2bCreate = { name: "Sandbox.create, e2b, instant stand-in", stats: summarize(floorCreate.e2b), baseline: floorOursCreate };
  printTable(`the SDKs' own client cost: the same calls against a stand-in that answers at once (creates each after a ${idleMs.toFixed(0)} ms wait, the real ones' median)`, [floorOurs, floorE2b, floorOursCreate, floorE2bCreate]);
  // Were hostd's E2B layer free, an E2B call would cost ours minus our client plus E2B's client.
  const reachable = (real, floorOf, floorE2bOf) => (real.stats.p50 - floorOf.stats.p50 + floorE2bOf.stats.p50) / real.stats.p50;
  console.log(`reachable at best for runCode (p50, an E2B layer costing nothing): ${reachable(oursHot, floorOurs, floorE2b).toFixed(2)}× (goal 1.5×)`);
  console.log(`reachable at best for Sandbox.create (p50, an E2B layer costing nothing): ${reachable(oursCreate, floorOursCreate, floorE2bCreate).toFixed(2)}× (goal 1.5×)`);
  rows.push(floorOurs, floorE2b, floorOursCreate, floorE2bCreate);
  const samples = [hot.ours, hot.e2b, cmd.exec, cmd.proc, cmd.e2b, create.ours, create.e2b, floor.ours, floor.e2b, floorCreate.ours, floorCreate.e2b];
  return { rows: rows.map((r, i) => ({ name: r.name, stats: r.stats, baseline: r.baseline?.name ?? null, samples: samples[i] })) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runE2b();
}
