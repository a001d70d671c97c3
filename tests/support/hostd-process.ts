// A hostd of a test's own (its own port and state dir), for tests that stop, kill or
// reconfigure it. Templates come from the shared tarball cache, so a start takes seconds.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/support/: the repository is three levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = path.join(root, "packages/cli/dist/main.js");

export interface TestHostd {
  url: string;
  proc: ChildProcess;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestHostdOptions {
  stateDir: string;
  port: number;
  env?: Record<string, string>;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** argv put before `node cli serve`, e.g. nsenter into a network namespace of the test's own. */
  launcher?: string[];
}

function hostdEnv(opts: TestHostdOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PODFLARE_STATE_DIR: opts.stateDir,
    PODFLARE_HOSTD_ADDR: `${opts.host ?? "127.0.0.1"}:${opts.port}`,
    PODFLARE_TEMPLATES: "default",
    // No warm pool unless a test asks: pooled sandboxes would show up in tests that count
    // sandboxes, families and cgroups of their own hostd.
    PODFLARE_POOL_SIZE: "0",
    // A storage pool of its own, reserved on the disk: small, as up to four run beside the shared one.
    PODFLARE_POOL_SIZE_GB: "10",
    PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates",
    ...opts.env,
  };
  if (!opts.env?.PODFLARE_API_KEYS) delete env.PODFLARE_API_KEYS;
  return env;
}

export async function startTestHostd(opts: TestHostdOptions): Promise<TestHostd> {
  const logPath = path.join("/tmp", `podflare-test-hostd-${opts.port}.log`);
  const logFd = fs.openSync(logPath, "a");
  const argv = [...(opts.launcher ?? []), process.execPath, cli, "serve"];
  const proc = spawn(argv[0]!, argv.slice(1), { env: hostdEnv(opts), stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);
  const url = `http://${opts.host ?? "127.0.0.1"}:${opts.port}`;
  let exited = false;
  proc.on("exit", () => (exited = true));
  const log = () => fs.readFileSync(logPath, "utf8");
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (exited) throw new Error(`hostd exited during start:\n${log().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`hostd did not start in time:\n${log().slice(-4000)}`);
    try {
      if ((await fetch(`${url}/v1/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    proc,
    log,
    stop: (signal = "SIGTERM") =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        proc.once("exit", () => resolve());
        proc.kill(signal);
      }),
  };
}

/** Unmounts a test state dir's pool (`podflare down`), so nothing stays mounted after the test. */
export function teardownStateDir(stateDir: string): void {
  const r = spawnSync(process.execPath, [cli, "down", "--force"], {
    env: { ...process.env, PODFLARE_STATE_DIR: stateDir },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`podflare down failed: ${r.stderr}`);
  // Unmounted and released: the state dir (its pool image is up to a few GB) goes too, so runs
  // do not pile them up on the disk. A later hostd on the same path starts fresh. Never while
  // anything is still mounted below it: removing through a mount would reach what it shows.
  const below = stateDir.replace(/\/+$/, "") + "/";
  const mounted = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => m === below.slice(0, -1) || m.startsWith(below));
  if (mounted.length) throw new Error(`podflare down left mounts under ${stateDir}: ${mounted.join(", ")}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
}

/**
 * Ports and state dirs for tests that run a hostd of their own, derived from the shared test
 * hostd's, so two test runs on one machine (different PODFLARE_TEST_ADDR/STATE_DIR) never meet.
 */
export function ownHostd(name: string, offset: number): { stateDir: string; port: number } {
  const base = Number(new URL(process.env.PODFLARE_HOSTD_URL || "http://127.0.0.1:7171").port || 7171);
  const shared = process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-test";
  return { stateDir: `${shared}-${name}`, port: base + offset };
}

/** Runs the `podflare` CLI (built) with PODFLARE_STATE_DIR and extra environment; never throws. */
export function runCli(args: string[], stateDir: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, PODFLARE_STATE_DIR: stateDir, ...env }, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `podflare serve` with `env` (on top of this process's), which the test expects to be refused:
 * resolves with its exit code and stderr once it exits, or with serving: true (then it is killed)
 * as soon as `http://127.0.0.1:<port>/v1/healthz` answers.
 */
export function serveExpectingRefusal(env: NodeJS.ProcessEnv, port: number): Promise<{ code: number | null; stderr: string; serving: boolean }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [cli, "serve"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let serving = false;
    proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    proc.on("exit", (code) => {
      clearInterval(poll);
      resolve({ code, stderr, serving });
    });
    const poll = setInterval(() => {
      void fetch(`http://127.0.0.1:${port}/v1/healthz`).then((r) => {
        if (r.ok && !serving) {
          serving = true;
          proc.kill("SIGTERM");
        }
      }, () => undefined);
    }, 100);
  });
}
