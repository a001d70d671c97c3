#!/usr/bin/env node
// CI: the README's first command on a fresh clone. Clones this checkout into a temp dir (no
// dist/, no node_modules), runs `npm ci` and `npx podflare serve` with a state dir and port of
// its own, waits for /v1/healthz, runs one exec through the TypeScript SDK and one through the
// Python SDK, stops hostd, `npx podflare down`, and removes the clone and the state dir.
// Templates come from the shared tarball cache, so a warm machine spends its time in npm ci.
//
//   node scripts/ci-first-run.mjs [--in DIR]   (--in: reuse a fresh clone already npm ci'd)
// Env: PODFLARE_FIRST_RUN_ADDR (127.0.0.1:7170), PODFLARE_FIRST_RUN_STATE_DIR
// (/var/lib/podflare-first-run), PODFLARE_TEMPLATE_CACHE (/var/cache/podflare-templates).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const addr = process.env.PODFLARE_FIRST_RUN_ADDR || "127.0.0.1:7170";
const stateDir = process.env.PODFLARE_FIRST_RUN_STATE_DIR || "/var/lib/podflare-first-run";
const url = `http://${addr}`;
const inIdx = process.argv.indexOf("--in");
const reuse = inIdx === -1 ? null : path.resolve(process.argv[inIdx + 1]);

function step(name) {
  console.log(`\n== first run: ${name}`);
}
function must(argv, opts) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: "inherit", ...opts });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

// Only what a user's shell would have: none of this CI run's PODFLARE_* settings or keys.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PODFLARE_")));
Object.assign(env, {
  PODFLARE_STATE_DIR: stateDir,
  PODFLARE_HOSTD_ADDR: addr,
  PODFLARE_HOSTD_URL: url,
  PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates",
  PODFLARE_TEMPLATES: "default",
  // Quick: no warm pool to fill on a busy CI machine; the exec path is the same.
  PODFLARE_POOL_SIZE: "0",
});

const tmp = reuse ? null : fs.mkdtempSync(path.join(os.tmpdir(), "podflare-first-run-"));
const clone = reuse ?? path.join(tmp, "podflare");
let hostd = null;
let failed = null;
try {
  if (!reuse) {
    step(`git clone ${checkout} ${clone}`);
    must(["git", "clone", "--quiet", checkout, clone]);
    if (fs.existsSync(path.join(clone, "packages/cli/dist"))) throw new Error("the clone has dist/: not a fresh clone");
    step("npm ci");
    must(["npm", "ci", "--no-audit", "--no-fund"], { cwd: clone, env });
  }

  step(`npx podflare serve on ${url} (state ${stateDir})`);
  let log = "";
  // A process group of its own: npx does not pass SIGTERM on to the hostd it started.
  hostd = spawn("npx", ["podflare", "serve"], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  for (const s of [hostd.stdout, hostd.stderr]) s.on("data", (b) => (log = (log + b.toString()).slice(-20000)));
  let exited = null;
  hostd.on("exit", (code, signal) => (exited = code ?? signal));
  const deadline = Date.now() + 15 * 60 * 1000;
  for (;;) {
    if (exited !== null) throw new Error(`npx podflare serve exited (${exited}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`hostd not healthy after 15 min:\n${log}`);
    const ok = await fetch(`${url}/v1/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(log.split("\n").filter((l) => l.includes("listening on")).join("\n"));

  step("one exec through the TypeScript SDK");
  const ts = spawnSync(process.execPath, ["--input-type=module", "-e",
    'import { Sandbox } from "podflare"; const sb = await Sandbox.create(); try { process.stdout.write((await sb.runCode("print(6 * 7)")).stdout); } finally { await sb.close(); }'],
    { cwd: clone, env, encoding: "utf8", timeout: 120_000 });
  if (ts.stdout !== "42\n") throw new Error(`TypeScript SDK: expected "42\\n", got ${JSON.stringify(ts.stdout)} (exit ${ts.status}): ${ts.stderr}`);
  console.log("TypeScript SDK: 42");

  step("one exec through the Python SDK");
  const py = spawnSync("python3", ["-c",
    'from podflare import Sandbox\nwith Sandbox() as sb:\n    sb.run_code("x = 41")\n    print(sb.run_code("print(x + 1)").stdout, end="")'],
    { cwd: clone, env: { ...env, PYTHONPATH: path.join(clone, "packages/sdk-python") }, encoding: "utf8", timeout: 120_000 });
  if (py.stdout !== "42\n") throw new Error(`Python SDK: expected "42\\n", got ${JSON.stringify(py.stdout)} (exit ${py.status}): ${py.stderr}`);
  console.log("Python SDK: 42");
} catch (err) {
  failed = err;
} finally {
  step("stop, podflare down, remove the clone");
  if (hostd) {
    try {
      process.kill(-hostd.pid, "SIGTERM");
    } catch {
      /* the group is gone already */
    }
    // hostd is stopped once its state dir lock is free.
    const lock = path.join(stateDir, "hostd.lock");
    const until = Date.now() + 120_000;
    while (fs.existsSync(lock) && spawnSync("flock", ["--nonblock", lock, "true"]).status !== 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const down = spawnSync("npx", ["podflare", "down"], { cwd: clone, env, stdio: "inherit" });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  // Only once nothing of it is mounted any more.
  if (down.status === 0) fs.rmSync(stateDir, { recursive: true, force: true });
  else if (!failed) failed = new Error("npx podflare down failed");
}
if (failed) {
  console.error(`first run FAILED: ${failed.message}`);
  process.exit(1);
}
console.log("first run: ok");
