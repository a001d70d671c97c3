// The hosted SDK's PTY surface (`sandbox.pty.create / attach / sendInput / resize / kill` and
// the handle's `sendInput`, `resize`, `kill`, `wait`), on top of the WebSocket terminal of
// pty.ts. The program is started as a PTY process and the handle attaches to it, so closing
// the handle (`disconnect`) leaves it running for a later `attach`, as on the hosted service.

import type { OptionNames } from "./options.js";
import type { ProcessInfo } from "./processes.js";

/** A terminal size, by the hosted SDK's names. */
export interface PtySize {
  cols: number;
  rows: number;
}

export interface PtyCreateOptions {
  /** A shell command line; default an interactive `bash -i -l`. */
  cmd?: string;
  /** Default 80 × 24. */
  cols?: number;
  rows?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Each piece of terminal output (raw bytes, escape sequences included), recent output first. */
  onData?: (data: Uint8Array) => void;
  /** Kill the program this long after the handle was made; 0 or unset: keep it until it exits. */
  timeoutMs?: number;
}

/** The options of pty.create (options.ts). */
export const PTY_CREATE_OPTIONS = { cmd: true, cols: true, rows: true, cwd: true, env: true, onData: true, timeoutMs: true } as const satisfies OptionNames<PtyCreateOptions>;

/** What the handle needs of a terminal session (pty.ts's Terminal). */
export interface TerminalSession {
  readonly process: ProcessInfo;
  readonly exited: Promise<{ exitCode: number; signal: string | null }>;
  onData(listener: (data: Buffer) => void): void;
  write(data: string | Uint8Array): void;
  resize(rows: number, cols: number): void;
  signal(signal: string | number): void;
  close(): void;
}

/**
 * One PTY program, driven the hosted SDK's way.
 *
 * @example
 * const pty = await sb.pty.create({ cmd: "python3 -q", cols: 120, rows: 40, onData: (b) => process.stdout.write(b) });
 * await pty.sendInput("6 * 7\r");
 * await pty.resize({ cols: 200, rows: 50 });
 * await pty.sendInput("exit()\r");
 * console.log(await pty.wait()); // 0
 */
export class PtyHandle {
  readonly #session: TerminalSession;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(session: TerminalSession, opts: { onData?: (data: Uint8Array) => void; timeoutMs?: number } = {}) {
    this.#session = session;
    if (opts.onData) session.onData(opts.onData);
    if (opts.timeoutMs) {
      this.#timer = setTimeout(() => session.signal("SIGKILL"), opts.timeoutMs);
      this.#timer.unref();
    }
    session.exited.then(
      () => this.#end(),
      () => this.#end(),
    );
  }

  get pid(): number {
    return this.#session.process.pid;
  }

  get process(): ProcessInfo {
    return this.#session.process;
  }

  /** Types into the terminal (e.g. "ls\r", "\x03" for Ctrl-C). */
  async sendInput(data: string | Uint8Array): Promise<void> {
    this.#session.write(data);
  }

  /** New terminal size; the program gets SIGWINCH. */
  async resize(size: PtySize): Promise<void> {
    this.#session.resize(size.rows, size.cols);
  }

  /** SIGKILL to the program (and its process group). */
  async kill(): Promise<void> {
    this.#session.signal("SIGKILL");
  }

  /** Resolves with the program's exit code once it exited and its output was delivered. */
  async wait(): Promise<number> {
    return (await this.#session.exited).exitCode;
  }

  /** Stops receiving output; the program keeps running (`sandbox.pty.attach(pid)` later). */
  disconnect(): void {
    this.#end();
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#session.close();
  }
}
