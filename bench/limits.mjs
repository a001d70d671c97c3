// Figures that used to be asserted inside tests (tests assert behaviour only; timings are
// printed here): a neighbour's exec latency while a fork bomb runs next door, the jail's
// launch / enter / run latency, and the TS SDK's round trip against a stand-in server (its
// own overhead, no sandbox). Runs alone too: `node bench/limits.mjs` (PODFLARE_HOSTD_URL set,
// as root for the jail part).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = knobs.limitsRuns;
const row = (name, samples, baseline) => ({ name, stats: summarize(samples), samples, baseline });

async function execLatencies(sb, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await time(() => sb.runCode("print(1)")));
  return out;
}

/** A neighbour's hot exec before and while a fork bomb fills another sandbox's pids limit. */
async function neighbourDuringBomb() {
  const neighbour = await Sandbox.create({ vcpus: 1 });
  const bomb = await Sandbox.create({ vcpus: 1 });
  try {
    const usual = await execLatencies(neighbour, runs);
    await bomb.runCode("(setsid bash -c ':(){ :|:& };:' >/dev/null 2>&1 &)", "bash");
    const during = await execLatencies(neighbour, runs);
    // The bomb's own sandbox: the control plane at its limit (tests/security/fork-bomb.test.ts).
    const upload = [];
    for (let i = 0; i < runs; i++) upload.push(await time(() => bomb.upload(Buffer.from("x"), `/tmp/u${i}`)));
    const kill = [await time(() => bomb.killProcesses())];
    return { usual, during, upload, kill };
  } finally {
    await Promise.all([neighbour.close(), bomb.close()]);
  }
}

/** The jail alone (no hostd): launchSandbox, startKernel, a run of /bin/true. */
async function jailLatencies() {
  const { JailFixture, UID_BASE, UID_COUNT, newId } = await import(path.join(root, "tests/dist/jail/helpers.js"));
  const { launchSandbox } = await import(path.join(root, "packages/hostd/dist/jail/index.js"));
  const fx = new JailFixture();
  const out = { launch: [], enter: [], run: [] };
  try {
    for (let i = 0; i < runs; i++) {
      const id = newId();
      fx.cg.create(id, { memoryMb: 512, vcpus: 1, pidsMax: 512 });
      fx.track(id);
      const cgroupProcs = fx.cg.procsFiles(id);
      let init;
      out.launch.push(await time(async () => (init = await launchSandbox({ id, rootfs: fx.rootfs, guestDir: fx.guestDir, uidBase: UID_BASE, uidCount: UID_COUNT, cgroupProcs }))));
      const sb = { id, cgroupProcs, ...init };
      out.enter.push(await time(() => fx.start(sb, ["/bin/sleep", "100"])));
      out.run.push(await time(() => fx.run(sb, ["/bin/true"])));
      await fx.destroy(id);
    }
  } finally {
    await fx.cleanup();
  }
  return out;
}

/** runCode against a stand-in server on loopback: what the SDK itself costs per call. */
async function sdkRoundTrip() {
  const { startStandIn, json, ndjson, createAnswer } = await import(path.join(root, "packages/sdk/test/dist/support/stand-in-server.js"));
  const server = await startStandIn((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.path.endsWith("/exec")) return ndjson(res, [{ type: "stdout", data: "hi\n", seq: 0, ts: 1 }, { type: "exit", data: 0, seq: 1, ts: 2 }]);
    res.writeHead(204).end();
  });
  try {
    const sb = await Sandbox.create({ host: server.url });
    const out = [];
    for (let i = 0; i < runs * 10; i++) out.push(await time(() => sb.runCode("1")));
    return out;
  } finally {
    await server.close();
  }
}

export async function runLimits() {
  const bomb = await neighbourDuringBomb();
  const jail = await jailLatencies();
  const sdk = await sdkRoundTrip();
  const usual = { name: "neighbour's exec, no bomb next door", stats: summarize(bomb.usual), samples: bomb.usual };
  const rows = [
    row("neighbour's exec while a fork bomb runs next door", bomb.during, usual),
    row("upload into the sandbox at its pids limit", bomb.upload),
    row("kill_processes of the fork bomb", bomb.kill),
    row("jail: launchSandbox", jail.launch),
    row("jail: startKernel (enter)", jail.enter),
    row("jail: run /bin/true", jail.run),
    row("TS SDK runCode vs a stand-in server", sdk),
  ];
  printTable(`limits (${runs} runs each; SDK ${runs * 10})`, rows);
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })),
    baselines: [usual],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runLimits();
