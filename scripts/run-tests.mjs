#!/usr/bin/env node
// `npm test`: builds, starts a real hostd on a test port and state dir, runs every test file
// (unit tests beside the code, integration/e2e/security tests under tests/) with node's test
// runner, then closes what the tests left, stops hostd and unmounts the test pool. A file that
// runs past FILE_TIMEOUT_MS fails, a run past RUN_TIMEOUT_MS is stopped (the clean-up still
// runs); a run quiet for QUIET_REPORT_MS prints a hang report; what
// killed test processes left (storage pools, jail sandboxes and mounts) is swept before and after.
// Needs root: sandboxes are real namespaces, cgroups and btrfs. Without root it fails loudly.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hangReport, processTree, startTime } from "./hang-report.mjs";
import { sweepJailCgroups, sweepTestLeftovers } from "./test-leftovers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = process.env.PODFLARE_TEST_STATE_DIR || "/var/lib/podflare-test";
const cacheDir = process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates";
const addr = process.env.PODFLARE_TEST_ADDR || "127.0.0.1:7171";
const url = `http://${addr}`;
const cli = path.join(root, "packages/cli/dist/main.js");
// A test file that runs longer than this fails and is stopped, so a hang costs one file, never
// the CI job's whole time limit. (Node 20 applies --test-timeout to each file's process; the
// longest file takes about a minute here.)
const FILE_TIMEOUT_MS = Number(process.env.PODFLARE_TEST_FILE_TIMEOUT_MS) || 15 * 60_000;
// After this long without a line from the suite, print what every process of the run waits on.
const QUIET_REPORT_MS = Number(process.env.PODFLARE_TEST_QUIET_REPORT_MS) || 4 * 60_000;
// The whole run's limit, well inside CI's 90 minutes (set-up included): past it the test
// processes are stopped, so the clean-up below still runs and the counts are still printed.
const RUN_TIMEOUT_MS = Number(process.env.PODFLARE_TEST_RUN_TIMEOUT_MS) || 60 * 60_000;

if (process.getuid() !== 0) {
  console.error("npm test needs root: the tests create real namespaces, cgroups and a btrfs pool. Run it as root.");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

function step(name) {
  console.log(`\n== ${name}`);
}

step("build");
const build = spawnSync("npx", ["tsc", "-b"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}

function findTests(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") findTests(p, out);
    } else if (entry.name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const env = {
  ...process.env,
  PODFLARE_STATE_DIR: stateDir,
  PODFLARE_TEMPLATE_CACHE: cacheDir,
  PODFLARE_HOSTD_ADDR: addr,
  PODFLARE_HOSTD_URL: url,
  PODFLARE_TEST_STATE_DIR: stateDir,
  PODFLARE_TEMPLATES: process.env.PODFLARE_TEMPLATES || "default,python-datasci",
  // Networking under test: the DNS forwarder answers only from this map and never asks an
  // outside resolver; sandboxes may open the gateway's port 18080 (the tests' package server).
  PODFLARE_DNS_UPSTREAM: "none",
  PODFLARE_DNS_STATIC: "pkgs.test=198.51.100.2,other.test=198.51.100.3",
  PODFLARE_NET_GATEWAY_PORTS: "18080",
  // The shared hostd's warm pool: small and fixed, whatever the host (the default is 1% of its
  // memory), so tests that drain or count it take the same time everywhere.
  PODFLARE_POOL_SIZE: process.env.PODFLARE_POOL_SIZE || "8",
  // The shared hostd's storage pool, when this run makes it: its blocks are reserved on the disk
  // (docs/storage.md), and tests' own hostds (10 GB each, tests/support/hostd-process.ts) need room too.
  PODFLARE_POOL_SIZE_GB: process.env.PODFLARE_POOL_SIZE_GB || "20",
  // The region the shared hostd answers to, so Podflare's programs passing region="us-west"
  // run unchanged (tests/conformance/programs).
  PODFLARE_REGION: process.env.PODFLARE_REGION || "us-west",
};
delete env.PODFLARE_API_KEYS;
delete env.PODFLARE_API_KEY;

step("leftovers of earlier runs");
await sweepJailCgroups();
sweepTestLeftovers();

step(`start hostd on ${url} (state ${stateDir})`);
const hostdLogPath = path.join("/tmp", `podflare-test-hostd-${addr.replace(/[^0-9]/g, "")}.log`);
const hostdLog = fs.openSync(hostdLogPath, "w");
const hostd = spawn(process.execPath, [cli, "serve"], { cwd: root, env, stdio: ["ignore", "inherit", hostdLog] });
let hostdExited = false;
hostd.on("exit", () => (hostdExited = true));

async function waitHealthy(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hostdExited) return false;
    try {
      const res = await fetch(`${url}/v1/healthz`);
      if (res.ok) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

let failedSetup = false;
if (!(await waitHealthy(30 * 60 * 1000))) {
  console.error(`hostd did not become healthy; its log (${hostdLogPath}):`);
  console.error(fs.readFileSync(hostdLogPath, "utf8").slice(-8000));
  failedSetup = true;
}

let passed = 0;
let failed = failedSetup ? 1 : 0;
if (!failedSetup) {
  step("tests");
  const files = [...findTests(path.join(root, "packages")).filter((f) => f.includes(`${path.sep}dist${path.sep}`)), ...findTests(path.join(root, "tests/dist"))];
  const only = process.argv.slice(2);
  const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
  const tap = path.join("/tmp", `podflare-test-results-${process.pid}.tap`);
  const run = await runQuietWatched(
    ["--test", `--test-timeout=${FILE_TIMEOUT_MS}`, "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=tap", `--test-reporter-destination=${tap}`, ...selected],
  );
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  // The summary is the last "# pass" / "# fail" pair: tests may print diagnostics that look alike.
  const last = (re) => [...text.matchAll(re)].pop()?.[1];
  passed = Number(last(/^# pass (\d+)$/gm) ?? 0);
  // A test stopped by the file timeout is "cancelled": it did not pass, so it counts as failed.
  failed = Number(last(/^# fail (\d+)$/gm) ?? (run.status === 0 ? 0 : 1)) + Number(last(/^# cancelled (\d+)$/gm) ?? 0);
  if (run.status !== 0 && failed === 0) failed = 1;
}

/** node with `args`, its output passed through; a hang report after QUIET_REPORT_MS of silence. */
async function runQuietWatched(args) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
  // Stopping the run (its limit, a signal here) reaches every test process and what they
  // started: the tree is taken once, before any of it dies and is re-parented; this script then
  // goes on to clean up.
  let stopping = false;
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n# ${why}: stopping the test processes\n${hangReport(child.pid)}`);
    // Each pid with its start time: the SIGKILL 10 s later must not reach a process that took a
    // freed pid meanwhile.
    const tree = processTree(child.pid).map((p) => ({ pid: p.pid, started: startTime(p.pid) }));
    const signal = (sig) => {
      for (const { pid, started } of tree) {
        if (started === undefined || startTime(pid) !== started) continue;
        try {
          process.kill(pid, sig);
        } catch {
          /* already gone */
        }
      }
    };
    signal("SIGTERM");
    setTimeout(() => signal("SIGKILL"), 10_000).unref();
  };
  const onSignal = (sig) => stop(`${sig} received`);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let lastOutput = Date.now();
  let reported = false;
  child.stdout.on("data", (chunk) => {
    process.stdout.write(chunk);
    lastOutput = Date.now();
    reported = false;
  });
  const watch = setInterval(() => {
    if (reported || Date.now() - lastOutput < QUIET_REPORT_MS) return;
    reported = true;
    process.stdout.write(`\n# nothing printed for ${Math.round((Date.now() - lastOutput) / 1000)} s\n${hangReport(child.pid)}`);
  }, Math.min(10_000, QUIET_REPORT_MS));
  const limit = setTimeout(() => stop(`the test run passed its limit of ${Math.round(RUN_TIMEOUT_MS / 1000)} s`), RUN_TIMEOUT_MS);
  const status = await new Promise((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  clearInterval(watch);
  clearTimeout(limit);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return { status };
}

step("clean up");
try {
  const res = await fetch(`${url}/v1/sandboxes`);
  if (res.ok) {
    const { sandboxes } = await res.json();
    for (const s of sandboxes) await fetch(`${url}/v1/sandboxes/${s.id}`, { method: "DELETE" });
    if (sandboxes.length) console.log(`closed ${sandboxes.length} sandbox(es) the tests left open`);
  }
} catch {
  /* hostd is gone; its next start reconciles */
}
await sweepJailCgroups();
sweepTestLeftovers();
hostd.kill("SIGTERM");
await new Promise((r) => (hostdExited ? r() : hostd.on("exit", r)));
const down = spawnSync(process.execPath, [cli, "down"], { cwd: root, env, stdio: "inherit" });
if (down.status !== 0) {
  console.error("could not unmount the test pool");
  failed++;
}

if (failed) printHostdTroubles();
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

/**
 * After a failure: the shared hostd's warnings and errors, which CI's output otherwise lacks.
 * Request lines that differ only in id and time are shown once with a count, so that one noisy
 * test (a port proxy's 502s) does not push out the lines that explain another's failure.
 */
function printHostdTroubles() {
  let lines = [];
  try {
    lines = fs.readFileSync(hostdLogPath, "utf8").split("\n").filter((l) => /"level":"(warn|error)"/.test(l));
  } catch {
    return;
  }
  if (!lines.length) return;
  const groups = new Map();
  for (const l of lines) {
    let key = l;
    try {
      const e = JSON.parse(l);
      if (e.msg === "request") key = `request ${e.method} ${e.route} ${e.status} ${e.error_code}`;
    } catch {
      /* not JSON: its own group */
    }
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.last = l;
    } else groups.set(key, { first: l, last: l, count: 1 });
  }
  const shown = [...groups.values()].slice(-80);
  console.log(`\n== the shared hostd's ${lines.length} warnings and errors, ${groups.size} kinds, the last ${shown.length} shown (${hostdLogPath})`);
  const cut = (l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l);
  for (const g of shown) {
    console.log(cut(g.first));
    if (g.count > 1) console.log(`   … ${g.count - 1} more like it, the last: ${cut(g.last)}`);
  }
}
