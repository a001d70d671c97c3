// The DNS forwarder process (dns-server.ts): our own node, started in the router namespace with
// `nsenter --net`, configured and told about policies over its IPC channel; it exits when
// hostd's channel closes, and is restarted if it dies while hostd runs.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { spawnTool } from "../host-tools/index.js";
import { endStaleForwarder, writeForwarderPid } from "./dns-pidfile.js";
import type { DnsConfig, DnsMessage } from "./dns-types.js";

const DNS_SERVER = fileURLToPath(new URL("./dns-server.js", import.meta.url));
const READY_TIMEOUT_MS = 10_000;
const RETRY_MS = 50;
const RESTART_DELAY_MS = 500;

export interface DnsForwarderOptions {
  netns: string;
  config: DnsConfig;
  /** Where the forwarder's pid and start time are kept (see dns-pidfile.ts). */
  pidFile: string;
  log: (msg: string) => void;
  /** Called after a restart of a forwarder that died: it knows no policy yet. */
  onRestart: () => void;
}

class ExitedAtStart extends Error {
  constructor(code: number | null) {
    super(`network: the DNS forwarder exited at start (${code})`);
  }
}

export class DnsForwarder {
  private child: ChildProcess | null = null;
  private stopped = false;

  constructor(private readonly opts: DnsForwarderOptions) {}

  /**
   * The one a crashed hostd left (kill -9) may still hold port 53 until it notices: it is
   * ended first (pid file), and a start that still finds the port taken is retried until
   * READY_TIMEOUT_MS, so a supervisor's first restart gets a working hostd.
   */
  async start(): Promise<void> {
    await endStaleForwarder(this.opts.pidFile, DNS_SERVER, this.opts.log);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        await this.startOnce();
        return;
      } catch (err) {
        if (!(err instanceof ExitedAtStart) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  send(m: DnsMessage): void {
    if (this.child?.connected) this.child.send(m);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    fs.rmSync(this.opts.pidFile, { force: true });
  }

  private startOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      // nsenter --net, not `ip netns exec`: that one also makes a mount namespace, a copy of
      // every mount on the host, which then holds other state dirs' storage pools mounted
      // (their `podflare down` left the loop device attached) for as long as this runs.
      const child = spawnTool("nsenter", [`--net=/run/netns/${this.opts.netns}`, process.execPath, DNS_SERVER], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        env: { LANG: "C" },
      });
      // nsenter execs node in place: the pid is the forwarder's.
      if (child.pid) writeForwarderPid(this.opts.pidFile, child.pid);
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`network: the DNS forwarder did not start within ${READY_TIMEOUT_MS / 1000} s`));
      }, READY_TIMEOUT_MS);
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`network: cannot start the DNS forwarder: ${e.message}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        if (this.child !== child) return reject(new ExitedAtStart(code));
        this.child = null;
        if (this.stopped) return;
        this.opts.log(`network: the DNS forwarder exited (${code}); restarting it`);
        setTimeout(() => {
          if (this.stopped) return;
          void this.start().then(() => this.opts.onRestart()).catch((e: Error) => this.opts.log(e.message));
        }, RESTART_DELAY_MS);
      });
      child.on("message", (m: { type?: string }) => {
        if (m.type !== "ready") return;
        clearTimeout(timer);
        this.child = child;
        resolve();
      });
      child.send({ type: "config", config: this.opts.config } satisfies DnsMessage);
    });
  }
}
