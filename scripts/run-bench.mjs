#!/usr/bin/env node
// `npm run bench`: starts its own hostd (port 7373 or PODFLARE_BENCH_ADDR, state
// /var/lib/podflare-bench or PODFLARE_BENCH_STATE_DIR), installs the
// baselines' Debian packages, runs every benchmark in bench/, prints the tables and writes
// bench/results/<date>.json + .html. `-- --runs 2` runs it twice and compares the runs;
// PODFLARE_BENCH_QUICK=1 is a smoke run (bench/knobs.mjs). `npm test` never runs benchmarks.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = process.env.PODFLARE_BENCH_STATE_DIR || "/var/lib/podflare-bench";
const addr = process.env.PODFLARE_BENCH_ADDR || "127.0.0.1:7373";
const url = `http://${addr}`;
const hostdLogPath = `/tmp/podflare-bench-hostd-${addr.replace(/[^0-9]/g, "")}.log`;
const cli = path.join(root, "packages/cli/dist/main.js");
// `npm run bench -- --runs 2`: the whole suite twice against the same hostd, the second run
// compared with the first figure by figure (bench/compare.mjs).
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 1;
if (!Number.isInteger(runs) || runs < 1 || runs > 10) {
  console.error("usage: npm run bench [-- --runs N]   (N: 1 to 10 whole runs; the later ones are compared with the first)");
  process.exit(2);
}
// Benchmarks and the SDKs they use read the hostd URL from the environment.
process.env.PODFLARE_HOSTD_URL = url;
process.env.PODFLARE_STATE_DIR = stateDir;

if (process.getuid() !== 0) {
  console.error("npm run bench needs root (it runs a real hostd)");
  process.exit(1);
}
spawnSync("bash", [path.join(root, "scripts/setup-host.sh")], { stdio: "inherit" });
const baselinePkgs = ["bubblewrap", "python3-ipykernel", "python3-jupyter-client"];
const missing = baselinePkgs.filter((p) => spawnSync("dpkg-query", ["-W", "-f=${Status}", p], { encoding: "utf8" }).stdout.indexOf("install ok installed") === -1);
if (missing.length) spawnSync("apt-get", ["install", "-y", "-q", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
spawnSync("npx", ["tsc", "-b"], { cwd: root, stdio: "inherit" });

const env = {
  ...process.env,
  PODFLARE_STATE_DIR: stateDir,
  PODFLARE_HOSTD_ADDR: addr,
  PODFLARE_HOSTD_URL: url,
  PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates",
  PODFLARE_TEMPLATES: "default,python-datasci",
  // Benchmarks send traffic only to loopback and namespaces they make: no outside resolver.
  PODFLARE_DNS_UPSTREAM: "none",
  // bench/edge puts an edge in front, which routes only to hostds with a region.
  PODFLARE_REGION: "bench",
  // The bench hostd's warm pool: the host's default unless PODFLARE_BENCH_POOL_SIZE says (a
  // pool sized to a burst shows the pool-bound figures; the default shows the steady state).
  ...(process.env.PODFLARE_BENCH_POOL_SIZE ? { PODFLARE_POOL_SIZE: process.env.PODFLARE_BENCH_POOL_SIZE } : {}),
};
delete env.PODFLARE_API_KEYS;
delete env.PODFLARE_API_KEY;
const log = fs.openSync(hostdLogPath, "w");
const hostd = spawn(process.execPath, [cli, "serve"], { env, stdio: ["ignore", log, log] });
// bench/soak reads what hostd holds (RSS, fds) from /proc/<pid>.
process.env.PODFLARE_BENCH_HOSTD_PID = String(hostd.pid);
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/v1/healthz`)).ok) break;
  } catch {}
  if (hostd.exitCode !== null || i > 6000) {
    console.error(fs.readFileSync(hostdLogPath, "utf8").slice(-4000));
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}

const { knobs } = await import(path.join(root, "bench/knobs.mjs"));
const { renderReport } = await import(path.join(root, "bench/report.mjs"));
const { hostedBeside } = await import(path.join(root, "bench/hosted.mjs"));
const { compareRuns, printComparison } = await import(path.join(root, "bench/compare.mjs"));
const { fmt } = await import(path.join(root, "bench/stats.mjs"));
let failed = false;

/**
 * Between benches: the warm pool full again and btrfs done removing the roots the last bench
 * deleted (`btrfs subvolume sync` waits for the cleaner), so a bench measures its own scenario,
 * not the previous one's reclaim (a full pool refill plus ~100 roots' cleanup after the
 * concurrency bench took fork(32) from ~350 to ~450 ms).
 */
async function settleHost() {
  const started = performance.now();
  for (let i = 0; i < 1200; i++) {
    try {
      const cap = await (await fetch(`${url}/v1/capacity`)).json();
      if (cap.pool.free >= cap.pool.size) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  spawnSync("btrfs", ["subvolume", "sync", path.join(stateDir, "pool")], { stdio: "ignore", timeout: 120_000 });
  await new Promise((r) => setTimeout(r, 500));
  return (performance.now() - started) / 1000;
}

/** One pass over every selected bench: the results object, written to bench/results/<date>.json. */
async function runOnce(pass) {
  const started = performance.now();
  const results = { date: new Date().toISOString(), host: { cpus: (await import("node:os")).cpus().length }, quick: knobs.quick, pass, benches: {} };
  // Each bench/<name>.mjs exports run<Name>(); they run in this order, one at a time.
  const benches = (process.env.PODFLARE_BENCHES || "core,concurrency,fork,lifecycle,density,network,limits,edge,e2b,tenants").split(",");
  for (const name of benches) {
    console.log(`\n(settled the host for ${(await settleHost()).toFixed(1)} s before ${name})`);
    const mod = await import(path.join(root, "bench", `${name}.mjs`));
    const run = mod[`run${name[0].toUpperCase()}${name.slice(1)}`];
    if (typeof run !== "function") {
      failed = true;
      console.error(`bench/${name}.mjs exports no run${name[0].toUpperCase()}${name.slice(1)}()`);
      continue;
    }
    try {
      results.benches[name] = await run();
    } catch (err) {
      failed = true;
      console.error(`bench ${name} failed: ${err.stack ?? err}`);
    }
  }
  results.wall_s = (performance.now() - started) / 1000;
  console.log("\nhosted Podflare's published figures (over the internet, reference only) beside ours:");
  for (const h of hostedBeside(results)) {
    console.log(`  ${h.figure}: hosted ${h.published}; ours ${h.ours.map((o) => `${fmt(o.value)} (${o.row.split(" / ").pop()}, ${h.stat})`).join(", ")}`);
  }
  fs.mkdirSync(path.join(root, "bench/results"), { recursive: true });
  const out = path.join(root, "bench/results", `${results.date.slice(0, 19).replace(/:/g, "-")}.json`);
  return { results, out };
}

const write = ({ results, out }) => {
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  fs.writeFileSync(out.replace(/\.json$/, ".html"), renderReport(results));
  console.log(`\nresults written to ${path.relative(root, out)} and the report to ${path.relative(root, out.replace(/\.json$/, ".html"))} (${results.wall_s.toFixed(0)} s of benchmarks)`);
};

const passes = [];
for (let pass = 1; pass <= runs; pass++) {
  if (runs > 1) console.log(`\n===== run ${pass} of ${runs}`);
  const done = await runOnce(pass);
  // Every later run is compared with the first: the figures should agree within the noise.
  if (passes.length) {
    done.results.noise = compareRuns(passes[0].results, done.results);
    printComparison(done.results.noise, fmt);
  }
  write(done);
  passes.push(done);
}
hostd.kill("SIGTERM");
await new Promise((r) => hostd.on("exit", r));
spawnSync(process.execPath, [cli, "down", "--force"], { env, stdio: "inherit" });
process.exit(failed ? 1 : 0);
