// Spawning the privileged Python helpers (jail/*.py) as processes of their own, with a JSON
// config on stdin, and reading their one-line JSON answers. The jail server (jail-server.ts)
// runs the same helpers without a Python start-up each; a spawned helper is still what runs a
// process and waits for it (runInSandbox), which needs its own stdio and exit status.

import { spawnToolPiped } from "../host-tools/index.js";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

/** The folder holding launch.py, enter.py and their modules (packages/hostd/jail). */
export const JAIL_DIR = fileURLToPath(new URL("../../jail/", import.meta.url));
export const PYTHON = "/usr/bin/python3";
// -E: ignore PYTHON* variables, -S: no site module (faster, nothing from site-packages).
export const PYTHON_FLAGS = ["-E", "-S"];
// The helpers get nothing of hostd's environment (API keys must never reach a sandbox).
export const HELPER_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

export class JailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JailError";
  }
}

export interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runHelper(script: string, config: object, timeoutMs: number): Promise<HelperResult> {
  const helper = spawnHelper(script, timeoutMs);
  helper.send(config);
  return helper.result;
}

/**
 * Starts a helper now and gives it its config later: Python's start-up (~30 ms) then overlaps
 * with whatever the caller does meanwhile (fork: the snapshots).
 */
export function spawnHelper(script: string, timeoutMs: number): { result: Promise<HelperResult>; send(config: object): void; kill(): void } {
  let send: (config: object) => void = () => undefined;
  let kill: () => void = () => undefined;
  const result = new Promise<HelperResult>((resolve, reject) => {
    const child = spawnToolPiped(PYTHON, [...PYTHON_FLAGS, JAIL_DIR + script], { env: HELPER_ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let exitCode: number | null = null;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({
        code: exitCode ?? 1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
      });
    };
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new JailError(`cannot run ${PYTHON}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      // Background processes started inside may still hold our pipes: give the output a
      // moment to drain, then stop waiting for it. The timer hands over to setImmediate so
      // one more poll phase reads what the helper wrote before exiting: on a starved event
      // loop timers run before pending pipe reads, and the answer line was lost (a launch
      // failed with "exit 0" and no output).
      grace = setTimeout(() => setImmediate(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }), 200);
    });
    child.on("close", finish);
    child.stdin.on("error", () => undefined);
    send = (config) => child.stdin.end(JSON.stringify(config));
    kill = () => child.kill("SIGKILL");
  });
  return { result, send: (config) => send(config), kill: () => kill() };
}

/** The last JSON object line in a helper's output. */
export function answer(text: string): Record<string, unknown> | undefined {
  const lines = text.trim().split("\n").reverse();
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === "object") return v as Record<string, unknown>;
    } catch {
      /* not ours */
    }
  }
  return undefined;
}

export function failure(step: string, r: HelperResult): JailError {
  if (r.timedOut) return new JailError(`${step}: timed out`);
  const a = answer(r.stdout) ?? answer(r.stderr);
  const msg = typeof a?.error === "string" ? a.error : `${step}: exit ${r.code}: ${r.stderr.trim().slice(-500)}`;
  return new JailError(msg);
}

