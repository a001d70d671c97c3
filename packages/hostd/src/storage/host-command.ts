// Running the external tools storage relies on (btrfs, losetup, mount, tar, mmdebstrap).
// Never through a shell: arguments go to execve as they are.

import { access, constants } from "node:fs/promises";
import { spawnTool, toolPath } from "../host-tools/index.js";

export { toolPath };

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFail?: boolean;
  /** Called with each complete line of stdout and stderr as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Set on top of the host-tool runner's minimal environment (never hostd's own). */
  env?: Record<string, string>;
  cwd?: string;
  /** Keep at most this many bytes of each stream in the result (the tail). */
  keepBytes?: number;
}

export class CommandError extends Error {
  readonly code: number;
  readonly stderr: string;
  constructor(cmd: string, args: readonly string[], result: RunResult) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-15).join("\n");
    super(`${cmd} ${args.join(" ")} exited with ${result.code}${tail ? `:\n${tail}` : ""}`);
    this.name = "CommandError";
    this.code = result.code;
    this.stderr = result.stderr;
  }
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const keep = opts.keepBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawnTool(cmd, args, {
      cwd: opts.cwd,
      env: { LC_ALL: "C", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = { stdout: "", stderr: "" };
    const partial = { stdout: "", stderr: "" };
    const take = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      out[stream] += text;
      if (out[stream].length > keep * 2) out[stream] = out[stream].slice(-keep);
      if (!opts.onLine) return;
      const lines = (partial[stream] + text).split(/\r?\n|\r/);
      partial[stream] = lines.pop() ?? "";
      for (const line of lines) opts.onLine(line, stream);
    };
    child.stdout!.on("data", take("stdout"));
    child.stderr!.on("data", take("stderr"));
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") reject(new Error(`${cmd} is not installed (not found in PATH)`));
      else reject(err);
    });
    child.on("close", (code, signal) => {
      if (opts.onLine) {
        for (const s of ["stdout", "stderr"] as const) if (partial[s]) opts.onLine(partial[s], s);
      }
      const result: RunResult = {
        code: code ?? (signal ? 128 : 1),
        stdout: out.stdout.slice(-keep),
        stderr: out.stderr.slice(-keep),
      };
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(cmd, args, result));
      else resolve(result);
    });
  });
}

/** True when `cmd` resolves to an executable in toolPath(). */
export async function haveCommand(cmd: string): Promise<boolean> {
  for (const dir of toolPath().split(":")) {
    if (!dir) continue;
    try {
      await access(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
