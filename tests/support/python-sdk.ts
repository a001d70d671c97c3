// Runs a Python snippet against the real Python SDK (packages/sdk-python) with the host's python3.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../packages/sdk-python");

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `python3 -c script ...args` with the SDK importable and PODFLARE_HOSTD_URL set to `hostdUrl`. */
export function runPythonSdk(script: string, hostdUrl: string, args: string[] = [], timeoutMs = 60_000): PythonRun {
  const r = spawnSync("/usr/bin/python3", ["-c", script, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: sdkDir, PODFLARE_HOSTD_URL: hostdUrl },
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
