// Node's side of jail/server.py: one long-lived privileged Python process that forks a child
// per launch/enter/fork/btrfs request, instead of one Python start-up per helper call. Started on
// first use, restarted on the next request after it dies; it exits when this process does
// (end of file on its stdin), so it never outlives hostd. Sandboxes never depend on it.
import type { ChildProcess } from "node:child_process";
import { spawnToolPiped } from "../host-tools/index.js";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PodflareError } from "@podflare/protocol";
import { JAIL_DIR_PREFIX, removeStaleJailDirs } from "./stale-jail-dirs.js";
import { JAIL_DIR, HELPER_ENV, JailError, PYTHON, PYTHON_FLAGS, type HelperResult } from "./helper-process.js";

/** launch.py, enter.py, fork.py, and btrfs_ioctl.py (snapshots and qgroup limits). */
export type JailOp = "launch" | "enter" | "fork" | "btrfs" | "netcfg";

const READY_TIMEOUT_MS = 10_000;

export class JailServer {
  private proc: ChildProcess | null = null;
  private starting: Promise<string> | null = null;
  private socket: string | null = null;

  /** Host pid of the running server, or null (tests kill it to check the restart). */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Where the running server listens (root only), or null. */
  get socketPath(): string | null {
    return this.proc ? this.socket : null;
  }

  /** Runs one helper request; the answer has the helper's output and exit status. */
  async request(op: JailOp, config: object, timeoutMs: number): Promise<HelperResult> {
    const body = JSON.stringify({ op, config });
    for (let attempt = 0; ; attempt++) {
      const socketPath = await this.ensure();
      try {
        return await exchange(socketPath, body, timeoutMs);
      } catch (err) {
        // Refused or missing socket: the request never arrived, so it is safe to send again
        // to a fresh server.
        const code = (err as NodeJS.ErrnoException).code;
        if (attempt >= 1 || (code !== "ECONNREFUSED" && code !== "ENOENT")) throw err;
        this.proc?.kill("SIGKILL");
        this.proc = null;
      }
    }
  }

  private ensure(): Promise<string> {
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async start(): Promise<string> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null && this.socket) return this.socket;
    // Those of servers killed with an earlier hostd go first: nothing else removes them.
    removeStaleJailDirs(os.tmpdir(), 2 * READY_TIMEOUT_MS);
    // A directory of its own (0700, made by mkdtemp): only root reaches the socket.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), JAIL_DIR_PREFIX));
    const socketPath = path.join(dir, "jail.sock");
    const proc = spawnToolPiped(PYTHON, [...PYTHON_FLAGS, JAIL_DIR + "server.py", socketPath], { env: HELPER_ENV });
    this.proc = proc;
    this.socket = socketPath;
    let stderr = "";
    proc.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString("utf8")).slice(-2000)));
    proc.on("exit", () => {
      if (this.proc === proc) this.proc = null;
      fs.rmSync(dir, { recursive: true, force: true });
    });
    // Never keep this process alive for the server's sake; its stdin closing ends it.
    for (const s of [proc.stdin, proc.stdout, proc.stderr]) (s as unknown as net.Socket).unref();
    proc.unref();
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => fail(new JailError("jail server: did not start in time")), READY_TIMEOUT_MS);
      const fail = (e: Error) => {
        clearTimeout(timer);
        proc.kill("SIGKILL");
        reject(e);
      };
      proc.on("error", (e) => fail(new JailError(`cannot run ${PYTHON}: ${e.message}`)));
      proc.on("exit", (code) => fail(new JailError(`jail server exited (${code}): ${stderr.trim()}`)));
      proc.stdout.on("data", (b: Buffer) => {
        out += b.toString("utf8");
        if (out.includes("ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    return socketPath;
  }
}

/** One request on the server's socket (exported for its unit test, against a stand-in server). */
export function exchange(socketPath: string, body: string, timeoutMs: number): Promise<HelperResult> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    let connected = false;
    let timedOut = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      const exit = /\n#exit (\d+)\n$/.exec(text);
      if (!exit && !timedOut) {
        // Only the server writes the status: it died (or was killed) while its helper ran.
        // The next request starts a new one; this call is worth retrying, not a hostd bug.
        reject(new PodflareError("unavailable", "hostd's privileged helper (the jail server) stopped while this call ran and is being restarted; retry the call"));
        return;
      }
      const output = text.replace(/^#pid \d+\n/, "").replace(/\n#exit \d+\n$/, "");
      resolve({ code: exit ? Number(exit[1]) : 1, stdout: output, stderr: output, timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      // The helper child, not the server: it and what it started clean up by themselves
      // only when they can, exactly as a spawned helper killed on a timeout.
      const pid = /^#pid (\d+)\n/.exec(Buffer.concat(chunks).toString("utf8"))?.[1];
      if (pid) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          /* already gone */
        }
      }
      sock.destroy();
      finish();
    }, timeoutMs);
    sock.on("connect", () => {
      connected = true;
      sock.end(body);
    });
    sock.on("data", (b: Buffer) => {
      chunks.push(b);
      // The server writes the status once the helper has exited: that is the end, even if
      // something the helper started still holds its end of the connection.
      if (b.toString("latin1").endsWith("\n") && /\n#exit \d+\n$/.test(Buffer.concat(chunks).toString("utf8"))) {
        finish();
        sock.destroy();
      }
    });
    sock.on("error", (e) => {
      if (!connected) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    sock.on("close", finish);
  });
}

let shared: JailServer | null = null;

/** The process's jail server (started on first use). */
export function jailServer(): JailServer {
  shared ??= new JailServer();
  return shared;
}
