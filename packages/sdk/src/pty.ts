// Interactive terminals (`sandbox.pty`): a PTY process in the sandbox, driven over a
// WebSocket (GET /v1/sandboxes/:id/pty). REST and protocol: docs/api.md, "PTY".
import { ProtocolError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { Processes, fromProcessInfo, type ProcessInfo, type ProcessRef } from "./processes.js";
import { PTY_CREATE_OPTIONS, PtyHandle, type PtyCreateOptions, type PtySize } from "./pty-handle.js";
import { OP, WsClient, newKey } from "./websocket.js";
import { checkOptions, type OptionNames } from "./options.js";

const enc = encodeURIComponent;

export interface PtyOptions {
  rows?: number;
  cols?: number;
  /** A shell command line to run instead of an interactive `bash -i -l`. */
  cmd?: string;
  cwd?: string;
  /** Attach to a PTY process started before (processes.start with `pty`) instead of a new one. */
  pid?: number;
}

/** The options of pty.open (options.ts). */
const PTY_OPTIONS = { rows: true, cols: true, cmd: true, cwd: true, pid: true } as const satisfies OptionNames<PtyOptions>;

export interface PtyExit {
  exitCode: number;
  signal: string | null;
}

/**
 * One terminal session. Output arrives through `onData`; `exited` resolves when the program ends.
 * Closing the session of a terminal it started sends that program SIGHUP.
 */
export class Terminal {
  readonly process: ProcessInfo;
  readonly exited: Promise<PtyExit>;
  private readonly listeners: ((data: Buffer) => void)[] = [];
  private readonly errors: string[] = [];

  private constructor(private readonly ws: WsClient, process: ProcessInfo, exited: Promise<PtyExit>) {
    this.process = process;
    this.exited = exited;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Errors the server reported for input, resize or signal messages (they do not end the session). */
  get reportedErrors(): readonly string[] {
    return this.errors;
  }

  /** @internal */
  static async open(http: HttpClient, sandboxId: string, opts: PtyOptions): Promise<Terminal> {
    const q = new URLSearchParams();
    if (opts.pid !== undefined) q.set("pid", String(opts.pid));
    else {
      q.set("rows", String(opts.rows ?? 24));
      q.set("cols", String(opts.cols ?? 80));
      if (opts.cmd !== undefined) q.set("cmd", opts.cmd);
      if (opts.cwd !== undefined) q.set("cwd", opts.cwd);
    }
    const { key, accept } = newKey();
    const up = await http.upgrade(`/v1/sandboxes/${enc(sandboxId)}/pty?${q}`, key);
    if (up.accept !== accept) {
      up.socket.destroy();
      throw new ProtocolError("the server's WebSocket answer has a wrong Sec-WebSocket-Accept");
    }
    const ws = new WsClient(up.socket, up.head);
    return new Promise<Terminal>((resolve, reject) => {
      let term: Terminal | undefined;
      const early: Buffer[] = [];
      let resolveExit!: (e: PtyExit) => void;
      let rejectExit!: (e: Error) => void;
      const exited = new Promise<PtyExit>((res, rej) => {
        resolveExit = res;
        rejectExit = rej;
      });
      exited.catch(() => {});
      ws.on("message", (op: number, payload: Buffer) => {
        if (op === OP.binary) {
          // Kept until the first onData listener, so nothing is lost between open and onData.
          if (term && term.listeners.length) for (const l of term.listeners) l(payload);
          else (term ? term.early : early).push(payload);
          return;
        }
        const msg = JSON.parse(payload.toString("utf8")) as { type: string; process?: never; exit_code?: number; signal?: string | null; error?: string };
        if (msg.type === "start" && !term) {
          term = new Terminal(ws, fromProcessInfo(msg.process!), exited);
          term.early = early;
          resolve(term);
        } else if (msg.type === "exit") resolveExit({ exitCode: msg.exit_code!, signal: msg.signal ?? null });
        else if (msg.type === "error") {
          if (!term) reject(new ProtocolError(`the terminal failed: ${msg.error}`));
          else term.errors.push(msg.error ?? "");
        }
      });
      ws.on("close", () => {
        if (!term) reject(new ProtocolError("the terminal's WebSocket closed before it started"));
        rejectExit(new ProtocolError("the terminal's connection closed before the program exited"));
      });
    });
  }

  private early: Buffer[] = [];

  /** Calls `listener` with each piece of terminal output (raw bytes, escape sequences included). */
  onData(listener: (data: Buffer) => void): void {
    this.listeners.push(listener);
    for (const b of this.early.splice(0)) listener(b);
  }

  /** Types into the terminal (e.g. "ls\r", "\x03" for Ctrl-C). */
  write(data: string | Uint8Array): void {
    this.ws.send(OP.binary, Buffer.from(data));
  }

  /** New size; the program gets SIGWINCH. */
  resize(rows: number, cols: number): void {
    this.ws.send(OP.text, Buffer.from(JSON.stringify({ type: "resize", rows, cols })));
  }

  signal(signal: string | number): void {
    this.ws.send(OP.text, Buffer.from(JSON.stringify({ type: "signal", signal })));
  }

  /** Ends the session (a terminal it started gets SIGHUP). */
  close(): void {
    this.ws.close();
  }
}

export class Pty {
  constructor(private readonly http: HttpClient, private readonly sandboxId: string) {}

  /**
   * Opens an interactive terminal (bash by default).
   *
   * @example
   * const t = await sb.pty.open({ rows: 30, cols: 100 });
   * t.onData((b) => process.stdout.write(b));
   * t.write("ls -la\r");
   * t.write("exit\r");
   * await t.exited;
   */
  async open(opts: PtyOptions = {}): Promise<Terminal> {
    checkOptions(opts, PTY_OPTIONS, "pty.open");
    return Terminal.open(this.http, this.sandboxId, opts);
  }

  get #processes(): Processes {
    return new Processes(this.http, this.sandboxId);
  }

  /**
   * Starts `cmd` (default an interactive `bash -i -l`) on a terminal, as the hosted SDK's
   * `pty.create`: output goes to `onData`, and the program outlives the handle (a
   * `disconnect()`) until it exits, is killed, `timeoutMs` passes, or the sandbox closes.
   *
   * @example
   * const pty = await sb.pty.create({ cmd: "npm init", cols: 120, rows: 40, onData: (b) => process.stdout.write(b) });
   * await pty.sendInput("\r".repeat(9));
   * const exitCode = await pty.wait();
   */
  async create(opts: PtyCreateOptions = {}): Promise<PtyHandle> {
    checkOptions(opts, PTY_CREATE_OPTIONS, "pty.create");
    const size = { rows: opts.rows ?? 24, cols: opts.cols ?? 80 };
    const start = { pty: size, ...(opts.cwd !== undefined && { cwd: opts.cwd }), ...(opts.env !== undefined && { env: opts.env }) };
    const info = await (opts.cmd !== undefined
      ? this.#processes.start(opts.cmd, start)
      : this.#processes.start("/bin/bash", { ...start, args: ["-i", "-l"] }));
    return this.attach(info.pid, opts);
  }

  /**
   * A handle on a running PTY program (by pid or tag), e.g. in a later agent turn: `onData`
   * first gets the recent output the server still holds, then live output.
   *
   * @example
   * const again = await sb.pty.attach(pid, { onData: (b) => process.stdout.write(b) });
   */
  async attach(pid: ProcessRef, opts: { onData?: (data: Uint8Array) => void; timeoutMs?: number } = {}): Promise<PtyHandle> {
    const info = typeof pid === "number" ? undefined : await this.#processes.get(pid);
    const t = await Terminal.open(this.http, this.sandboxId, { pid: info ? info.pid : (pid as number) });
    return new PtyHandle(t, opts);
  }

  /** Types into the PTY program `pid`. */
  sendInput(pid: ProcessRef, data: string | Uint8Array): Promise<void> {
    return this.#processes.sendStdin(pid, data);
  }

  /** Resizes the PTY program `pid`'s terminal (SIGWINCH). */
  resize(pid: ProcessRef, size: PtySize): Promise<void> {
    return this.#processes.resize(pid, size.rows, size.cols);
  }

  /** SIGKILL to the PTY program `pid`. */
  kill(pid: ProcessRef): Promise<void> {
    return this.#processes.kill(pid);
  }
}
