#!/usr/bin/env node
// `npm run bench`: starts its own hostd (port 7373 or PODFLARE_BENCH_ADDR, state
// /var/lib/podflare-bench or PODFLARE_BENCH_STATE_DIR), installs the
// baselines' Debian packages, runs every benchmark in bench/, prints the tables and writes
// bench/results/<date>.json. Benchmarks are not tests: `npm test` never runs them.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = process.env.PODFLARE_BENCH_STATE_DIR || "/var/lib/podflare-bench";
const addr = process.env.PODFLARE_BENCH_ADDR || "127.0.0.1:7373";
const url = `http://${addr}`;
const cli = path.join(root, "packages/cli/dist/main.js");
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
};
delete env.PODFLARE_API_KEYS;
delete env.PODFLARE_API_KEY;
const log = fs.openSync("/tmp/podflare-bench-hostd.log", "w");
const hostd = spawn(process.execPath, [cli, "serve"], { env, stdio: ["ignore", log, log] });
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/v1/healthz`)).ok) break;
  } catch {}
  if (hostd.exitCode !== null || i > 6000) {
    console.error(fs.readFileSync("/tmp/podflare-bench-hostd.log", "utf8").slice(-4000));
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}

const results = { date: new Date().toISOString(), host: { cpus: (await import("node:os")).cpus().length }, benches: {} };
let failed = false;
// Each bench/<name>.mjs exports run<Name>(); they run in this order, one at a time.
const benches = (process.env.PODFLARE_BENCHES || "core,concurrency,fork,lifecycle,density,network").split(",");
for (const name of benches) {
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
fs.mkdirSync(path.join(root, "bench/results"), { recursive: true });
const out = path.join(root, "bench/results", `${results.date.slice(0, 19).replace(/:/g, "-")}.json`);
fs.writeFileSync(out, JSON.stringify(results, null, 2));
const { renderReport } = await import(path.join(root, "bench/report.mjs"));
fs.writeFileSync(out.replace(/\.json$/, ".html"), renderReport(results));
console.log(`\nresults written to ${path.relative(root, out)} and the report to ${path.relative(root, out.replace(/\.json$/, ".html"))}`);
hostd.kill("SIGTERM");
await new Promise((r) => hostd.on("exit", r));
spawnSync(process.execPath, [cli, "down", "--force"], { env, stdio: "inherit" });
process.exit(failed ? 1 : 0);
