// Background processes in a sandbox (`sandbox.processes`): start, list, stream output (a late
// reader sees recent output first), stdin, signals, wait. REST: docs/api.md, "Processes".
import { NdjsonDecoder } from "./events.js";
import { ProtocolError } from "./errors.js";
import { streamError, type HttpClient } from "./http.js";
import { checkOptions, type OptionNames } from "./options.js";

const enc = encodeURIComponent;

export interface ProcessInfo {
  pid: number;
  cmd: string;
  args: string[] | null;
  cwd: string;
  tag: string | null;
  pty: boolean;
  running: boolean;
  /** Once exited; killed by a signal: 128 + its number, as in a shell. */
  exitCode: number | null;
  signal: string | null;
  startedMs: number;
  stdin: boolean;
}

export interface StartOptions {
  /** Run `cmd` as a program with these arguments; without them `cmd` is a `bash -c` command line. */
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** A name to find the process by (unique among running ones). */
  tag?: string;
  /** Keep stdin open for `sendStdin` (default false: /dev/null). */
  stdin?: boolean;
  /** Run on a terminal of this size (see also `sandbox.pty`). */
  pty?: { rows: number; cols: number };
}

/** The options of processes.start (options.ts). */
const START_OPTIONS = { args: true, env: true, cwd: true, tag: true, stdin: true, pty: true } as const satisfies OptionNames<StartOptions>;

export type ProcessEvent =
  | { type: "start"; process: ProcessInfo }
  | { type: "stdout" | "stderr" | "pty"; data: string }
  | { type: "exit"; exitCode: number; signal: string | null };

/** What a process selector may be: its pid, or the tag it was started with. */
export type ProcessRef = number | string;

interface WireInfo {
  pid: number; cmd: string; args: string[] | null; cwd: string; tag: string | null; pty: boolean;
  running: boolean; exit_code: number | null; signal: string | null; started_ms: number; stdin: boolean;
}

export function fromProcessInfo(w: WireInfo): ProcessInfo {
  return {
    pid: w.pid, cmd: w.cmd, args: w.args, cwd: w.cwd, tag: w.tag, pty: w.pty, running: w.running,
    exitCode: w.exit_code, signal: w.signal, startedMs: w.started_ms, stdin: w.stdin,
  };
}

export class Processes {
  constructor(private readonly http: HttpClient, private readonly sandboxId: string) {}

  private path(ref?: ProcessRef, op = ""): string {
    const base = `/v1/sandboxes/${enc(this.sandboxId)}/processes`;
    return ref === undefined ? base : `${base}/${enc(String(ref))}${op}`;
  }

  /**
   * Starts a command in the background; it outlives this call and runs until it exits or is killed.
   *
   * @example
   * const p = await sb.processes.start("python3 -m http.server 8000", { tag: "web" });
   * for await (const ev of sb.processes.connect("web")) if (ev.type === "stderr") console.log(ev.data);
   */
  async start(cmd: string, opts: StartOptions = {}): Promise<ProcessInfo> {
    checkOptions(opts, START_OPTIONS, "processes.start");
    const body = { cmd, ...opts };
    return fromProcessInfo((await this.http.json<WireInfo>("POST", this.path(), { json: body }))!);
  }

  async list(): Promise<ProcessInfo[]> {
    const res = await this.http.json<{ processes: WireInfo[] }>("GET", this.path());
    return (res?.processes ?? []).map(fromProcessInfo);
  }

  async get(ref: ProcessRef): Promise<ProcessInfo> {
    return fromProcessInfo((await this.http.json<WireInfo>("GET", this.path(ref)))!);
  }

  /**
   * Streams the process's output: what its ring buffer still holds (unless `fromNow`), then
   * live output, then `exit`. Stop early with `break`; the process goes on.
   */
  async *connect(ref: ProcessRef, opts: { fromNow?: boolean } = {}): AsyncGenerator<ProcessEvent, void, undefined> {
    const what = `GET ${this.path(ref, "/stream")}`;
    const res = await this.http.open("GET", this.path(ref, opts.fromNow ? "/stream?from=now" : "/stream"), { accept: "application/x-ndjson", timeoutMs: 0 });
    const dec = new NdjsonDecoder();
    let exited = false;
    try {
      for await (const chunk of res) {
        for (const raw of dec.push(chunk as Buffer)) {
          const ev = toEvent(raw);
          if (ev.type === "exit") exited = true;
          yield ev;
        }
      }
      for (const raw of dec.end()) yield toEvent(raw);
    } catch (err) {
      throw streamError(err, what);
    } finally {
      res.destroy();
    }
    if (!exited) throw new ProtocolError(`${what}: the stream ended before the process's exit (the sandbox closed?)`);
  }

  /** Waits for the process to exit; resolves with its final info (exitCode set). */
  async wait(ref: ProcessRef): Promise<ProcessInfo> {
    const res = await this.http.json<WireInfo>("POST", this.path(ref, "/wait"), { timeoutMs: 0 });
    return fromProcessInfo(res!);
  }

  /** Writes to the process's stdin (started with `stdin: true`, or a PTY). */
  async sendStdin(ref: ProcessRef, data: string | Uint8Array): Promise<void> {
    const json = typeof data === "string" ? { data } : { data_base64: Buffer.from(data).toString("base64") };
    await this.http.request("POST", this.path(ref, "/stdin"), { json });
  }

  async closeStdin(ref: ProcessRef): Promise<void> {
    await this.http.request("POST", this.path(ref, "/close_stdin"));
  }

  /** Sends a signal (name like "SIGTERM" or a number) to the process and its group. */
  async signal(ref: ProcessRef, signal: string | number = "SIGTERM"): Promise<void> {
    await this.http.request("POST", this.path(ref, "/signal"), { json: { signal } });
  }

  /** SIGKILL. */
  async kill(ref: ProcessRef): Promise<void> {
    await this.http.request("DELETE", this.path(ref));
  }

  /** Changes a PTY process's terminal size (the program gets SIGWINCH). */
  async resize(ref: ProcessRef, rows: number, cols: number): Promise<void> {
    await this.http.request("POST", this.path(ref, "/resize"), { json: { rows, cols } });
  }
}

function toEvent(raw: unknown): ProcessEvent {
  const e = raw as { type: string; data?: string; process?: WireInfo; exit_code?: number; signal?: string | null };
  if (e.type === "start") return { type: "start", process: fromProcessInfo(e.process!) };
  if (e.type === "exit") return { type: "exit", exitCode: e.exit_code!, signal: e.signal ?? null };
  return { type: e.type as "stdout", data: e.data ?? "" };
}
