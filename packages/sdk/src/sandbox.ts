// The Sandbox class: one object per sandbox id, all calls through a shared HttpClient. The
// class holds the surface (names, docs, lifecycle checks); each job's protocol lives in its
// own module: open, exec-stream, files, spaces, settings, account, lifecycle.
// Over 400 lines because it is the public class: every method's documentation and example live
// here, next to its signature; the protocol work is in the modules named above.

import { listSandboxes, usage, type Usage } from "./account.js";
import { CONNECTION_OPTIONS, type ClientOption } from "./client.js";
import * as contexts from "./contexts.js";
import { diffSandboxes } from "./diff.js";
import { ProtocolError } from "./errors.js";
import type { ExecEvent, ExecResult, OutputEvent } from "./events.js";
import { collectExec, openExec, streamExec } from "./exec-stream.js";
import { downloadFile, listDir, removePath, uploadFile } from "./files.js";
import type { HttpClient } from "./http.js";
import { SandboxLife } from "./lifecycle.js";
import { fromSandboxMetrics, type SandboxMetrics } from "./metrics.js";
import { connectSandbox, createSandbox, resumeSpace, type Opened, type SandboxInit } from "./open.js";
import { sandboxPath, type SandboxRef } from "./sandbox-ref.js";
import { changeNetwork, changeTimeout } from "./settings.js";
import { forkChildren, freezeToSpace, mergeInto } from "./spaces.js";
import { fromSandboxInfo, snakeToCamel } from "./types.js";
import type { AppliedLimits, ConnectionOptions, Context, DiffResult, FileEntry, Language, NetworkInfo } from "./types.js";
import type { NetworkPolicy, RunOptions, SandboxInfo, SandboxOptions } from "./types.js";
import type * as wire from "./wire.js";
import { Filesystem } from "./filesystem.js";
import { Processes } from "./processes.js";
import { Pty } from "./pty.js";
import { checkOptions, type OptionNames } from "./options.js";

export { uploadArgs } from "./files.js";


/** The options of Sandbox.create (options.ts). */
const SANDBOX_OPTIONS = {
  ...CONNECTION_OPTIONS, template: true, persistent: true, egress: true, memoryMb: true, diskMb: true, vcpus: true,
  idleTimeoutS: true, idleTimeoutSeconds: true, maxLifetimeS: true, env: true, metadata: true, network: true,
} as const satisfies OptionNames<SandboxOptions & ClientOption>;

/** The options of runCode and runCodeStream. */
const RUN_OPTIONS = { timeoutMs: true, env: true, cwd: true, context: true, onResult: true, onError: true, signal: true, results: true } as const satisfies OptionNames<RunOptions>;

/**
 * A Podflare sandbox: a Linux box with a persistent Python REPL, bash, and files.
 *
 * @example
 * import { Sandbox } from "podflare";
 * const sb = await Sandbox.create();
 * await sb.runCode("x = 41");
 * console.log((await sb.runCode("x += 1; print(x)")).stdout); // "42\n"
 * await sb.close();
 */
export class Sandbox {
  /** The sandbox id, `sbx_` and 32 hex digits. */
  readonly id: string;
  /** Template the sandbox was made from, when the server said. */
  readonly template: string | undefined;
  /** Limits the sandbox runs with (undefined when the server did not say, e.g. the hosted service). */
  applied: AppliedLimits | undefined;
  /** Options (SDK names, e.g. "memoryMb") the server lowered to your tier's cap. */
  readonly clamped: readonly string[];
  /** Things asked for that the server does not provide, said instead of silently ignored. */
  readonly warnings: readonly string[];

  readonly #http: HttpClient;
  readonly #ref: SandboxRef;
  readonly #life: SandboxLife;

  private constructor(http: HttpClient, id: string, init: SandboxInit) {
    this.#http = http;
    this.id = id;
    this.#ref = { http, id };
    this.#life = new SandboxLife(id);
    this.template = init.template;
    this.applied = init.applied;
    this.clamped = (init.clamped ?? []).map(snakeToCamel);
    this.warnings = init.warnings ?? [];
  }

  /** Background processes: start, list, connect, stdin, signal, wait (processes.ts). */
  get processes(): Processes {
    return new Processes(this.#http, this.id);
  }

  /** The filesystem: list, stat, mkdir, move, remove, watch (filesystem.ts). */
  get fs(): Filesystem {
    return new Filesystem(this.#http, this.id);
  }

  /** Interactive terminals over a WebSocket (pty.ts). */
  get pty(): Pty {
    return new Pty(this.#http, this.id);
  }

  /** Base URL of the API this sandbox is reached through. */
  get host(): string {
    return this.#http.host;
  }

  /** False once `close()`, `mergeInto()` (on the winner) or `freeze()` has run. */
  get isOpen(): boolean {
    return this.#life.isOpen;
  }

  /**
   * Creates a sandbox. Options are camelCase and sent snake_case; unset ones are not sent.
   * With `client`, the connection settings are the shared {@link Client}'s.
   *
   * @example
   * const sb = await Sandbox.create({ template: "default", memoryMb: 2048, idleTimeoutS: 600 });
   * console.log(sb.id, sb.applied?.memoryMb, sb.clamped); // clamped: e.g. ["memoryMb"]
   * const client = new Client({ host: "http://127.0.0.1:7070" });
   * const [a, b] = await Promise.all([Sandbox.create({ client }), Sandbox.create({ client })]);
   */
  static async create(opts: SandboxOptions & ClientOption = {}): Promise<Sandbox> {
    checkOptions(opts, SANDBOX_OPTIONS, "Sandbox.create");
    return Sandbox.#from(await createSandbox(opts));
  }

  /**
   * Attaches to an existing sandbox by id. Checks it exists when the server can say
   * (throws {@link SandboxNotFoundError} if not).
   *
   * @example
   * const sb = await Sandbox.connect("sbx_0123456789abcdef0123456789abcdef");
   * await sb.runCode("print(x)"); // the REPL state is the sandbox's, not the object's
   */
  static async connect(id: string, opts: ConnectionOptions & ClientOption = {}): Promise<Sandbox> {
    checkOptions(opts, CONNECTION_OPTIONS, "Sandbox.connect");
    return Sandbox.#from(await connectSandbox(id, opts));
  }

  /**
   * Resumes a persistent Space (made by `freeze()` or by the idle reaper) as a new sandbox.
   * A Space resumes once; a second resume throws {@link SpaceNotFoundError}. With
   * `region`, the server must serve that region (else {@link RegionUnknownError}).
   *
   * @example
   * const spaceId = await sb.freeze();
   * const again = await Sandbox.resume(spaceId, { region: "us-west" });
   * await again.runCode("print(x)");
   */
  static async resume(spaceId: string, opts: ConnectionOptions & ClientOption = {}): Promise<Sandbox> {
    checkOptions(opts, CONNECTION_OPTIONS, "Sandbox.resume");
    return Sandbox.#from(await resumeSpace(spaceId, opts));
  }

  /**
   * Lists the sandboxes this key can see.
   *
   * @example
   * for (const s of await Sandbox.listSandboxes()) console.log(s.id, s.state);
   */
  static listSandboxes(opts: ConnectionOptions & ClientOption = {}): Promise<SandboxInfo[]> {
    checkOptions(opts, CONNECTION_OPTIONS, "Sandbox.listSandboxes");
    return listSandboxes(opts);
  }

  /**
   * The calling key's usage: sandboxes created, sandbox-seconds, GB-seconds (sandbox-seconds
   * weighted by memory), execs and forks, running sandboxes counted up to now.
   *
   * @example
   * const u = await Sandbox.usage();
   * console.log(u.sandboxSeconds, u.gbSeconds, u.execs);
   */
  static usage(opts: ConnectionOptions & ClientOption = {}): Promise<Usage> {
    checkOptions(opts, CONNECTION_OPTIONS, "Sandbox.usage");
    return usage(opts);
  }

  static #from(opened: Opened): Sandbox {
    return new Sandbox(opened.http, opened.id, opened.init);
  }

  /**
   * Current state and limits of the sandbox, from the server.
   *
   * @example
   * const info = await sb.info();
   * console.log(info.state, info.applied.memoryMb, info.parentId);
   */
  async info(): Promise<SandboxInfo> {
    this.#assertOpen();
    const res = await this.#http.json<wire.SandboxInfo>("GET", this.#path(""));
    if (!res) throw new ProtocolError(`GET ${this.#path("")} answered an empty body`);
    const info = fromSandboxInfo(res);
    this.applied = info.applied ?? this.applied;
    return info;
  }
  /**
   * What the sandbox uses now: CPU time, memory, disk and tasks, read by hostd from its cgroup
   * and its root filesystem at the time of the call.
   *
   * @example
   * const m = await sb.metrics();
   * console.log(m.memoryBytes / 2 ** 20, "MiB of", m.memoryLimitBytes / 2 ** 20);
   */
  async metrics(): Promise<SandboxMetrics> {
    this.#assertOpen();
    const res = await this.#http.json<wire.SandboxMetrics>("GET", this.#path("/metrics"));
    if (!res) throw new ProtocolError(`GET ${this.#path("/metrics")} answered an empty body`);
    return fromSandboxMetrics(res);
  }


  /**
   * Runs code and waits for it to finish. A Python exception is not thrown: it gives a
   * non-zero `exitCode` and its traceback on `stderr`, and the REPL stays usable. With
   * `timeoutMs`, the code is interrupted after that long and `exitCode` is 124.
   *
   * @example
   * const r = await sb.runCode("import sys; print('hi'); sys.exit(3)");
   * r.stdout;   // "hi\n"
   * r.exitCode; // 3
   * const u = await sb.runCode("uname -s", "bash");
   */
  async runCode(code: string, language: Language = "python", opts: RunOptions = {}): Promise<ExecResult> {
    checkOptions(opts, RUN_OPTIONS, "runCode");
    this.#assertOpen();
    const res = await openExec(this.#ref, code, language, opts, true);
    return collectExec(res, `exec in ${this.id}`, opts);
  }

  /**
   * Runs code and yields its events as they are produced: `stdout`/`stderr` lines (each
   * keeping its newline) and a last `exit` event, as the hosted API streams them; with
   * `{results: true}` also python's `result` and `error` events (docs/api.md, "Rich
   * results"). Breaking out of the loop drops the connection, and hostd then interrupts the
   * code as on a timeout.
   *
   * @example
   * for await (const ev of sb.runCodeStream("for i in range(3): print(i)")) {
   *   if (ev.type === "stdout") process.stdout.write(ev.data);
   *   else if (ev.type === "exit") console.log("exit", ev.data);
   * }
   */
  runCodeStream(code: string, language?: Language, opts?: RunOptions & { results?: false }): AsyncGenerator<OutputEvent, void, undefined>;
  runCodeStream(code: string, language: Language, opts: RunOptions): AsyncGenerator<ExecEvent, void, undefined>;
  async *runCodeStream(code: string, language: Language = "python", opts: RunOptions = {}): AsyncGenerator<ExecEvent, void, undefined> {
    checkOptions(opts, RUN_OPTIONS, "runCodeStream");
    this.#assertOpen();
    const res = await openExec(this.#ref, code, language, opts, opts.results === true);
    yield* streamExec(res, `exec in ${this.id}`, opts.signal);
  }

  /**
   * Writes `data` to the file `path` in the sandbox, creating parent directories (a
   * relative path is taken from /root). Strings are written as UTF-8. The order is
   * Podflare's `(data, path)`, except that a string then bytes is `(path, data)`, as the
   * hosted README writes it; two strings are never reordered by their look.
   *
   * @example
   * await sb.upload(new Uint8Array([1, 2, 3]), "/root/data.bin");
   * await sb.upload("hello\n", "/root/notes.txt");
   * await sb.upload("data.csv", await fs.promises.readFile("local.csv")); // path first: bytes second
   */
  async upload(data: Uint8Array | ArrayBuffer | string, path: string): Promise<void>;
  async upload(path: string, data: Uint8Array | ArrayBuffer): Promise<void>;
  async upload(a: Uint8Array | ArrayBuffer | string, b: string | Uint8Array | ArrayBuffer): Promise<void> {
    this.#assertOpen();
    await uploadFile(this.#ref, a, b);
  }

  /**
   * Reads a file from the sandbox. A directory throws {@link IsADirectoryError}: use `list(path)`.
   *
   * @example
   * const bytes = await sb.download("/root/data.bin");
   * const text = (await sb.download("/etc/hostname")).toString("utf8");
   */
  async download(path: string): Promise<Buffer> {
    this.#assertOpen();
    return downloadFile(this.#ref, path);
  }

  /**
   * Lists a directory in the sandbox. A file throws {@link NotADirectoryError}: use `download(path)`.
   *
   * @example
   * for (const e of await sb.list("/root")) console.log(e.type, e.name, e.size);
   */
  async list(path: string): Promise<FileEntry[]> {
    this.#assertOpen();
    return listDir(this.#ref, path);
  }

  /**
   * Removes a file, symlink or directory tree in the sandbox.
   *
   * @example
   * await sb.remove("/root/data.bin");
   */
  async remove(path: string): Promise<void> {
    this.#assertOpen();
    await removePath(this.#ref, path);
  }

  /**
   * Starts `n` children from this sandbox's exact state: REPL memory and files. Each
   * child is independent: its writes never show in the parent or a sibling.
   *
   * @example
   * const [a, b] = await sb.fork(2);
   * await a.runCode("x = 1"); await b.runCode("x = 2");
   */
  async fork(n = 1): Promise<Sandbox[]> {
    this.#assertOpen();
    return (await forkChildren(this.#ref, n)).map((id) => new Sandbox(this.#http, id, { template: this.template, applied: this.applied }));
  }

  /**
   * Makes this sandbox become `winner` (one of its children): this id now names the
   * winner's REPL and files, and the winner's own id is retired. Afterwards the winner
   * object is closed (its `close()` does nothing); keep using this one.
   *
   * @example
   * const kids = await sb.fork(3);
   * // … try something different in each …
   * await sb.mergeInto(kids[1]);
   */
  async mergeInto(winner: Sandbox | string): Promise<void> {
    this.#assertOpen();
    const winnerId = typeof winner === "string" ? winner : winner.id;
    await mergeInto(this.#ref, winnerId);
    if (winner instanceof Sandbox) winner.#life.mergedInto(this.id);
  }

  /**
   * Compares files between this sandbox and `other` (e.g. two fork children), client-side:
   * `added` exist only in `other`, `removed` only here, `modified` differ in content (files
   * over 1 MB: in size or mtime). Runs a small Python helper in both sandboxes; the REPL's
   * variables are not touched.
   *
   * @example
   * const [a, b] = await sb.fork(2);
   * await b.runCode("open('/root/new.txt', 'w').write('hi')");
   * await a.diff(b); // { added: ["/root/new.txt"], removed: [], modified: [] }
   */
  async diff(other: Sandbox, paths: readonly string[] = ["/root", "/tmp"]): Promise<DiffResult> {
    return diffSandboxes(this, other, paths);
  }

  /**
   * Pauses the sandbox in memory (its processes stop; nothing is lost). Milliseconds.
   *
   * @example
   * await sb.pause();
   * await sb.resume();
   */
  async pause(): Promise<void> {
    this.#assertOpen();
    await this.#http.request("POST", this.#path("/pause"));
  }

  /**
   * Resumes this paused sandbox (in memory). Not to be confused with the static
   * `Sandbox.resume(spaceId)`, which brings back a frozen Space.
   *
   * @example
   * await sb.pause();
   * await sb.resume();
   */
  async resume(): Promise<void> {
    this.#assertOpen();
    await this.#http.request("POST", this.#path("/resume"));
  }

  /**
   * Kills every process of the sandbox except its REPL, whose variables stay: the way out
   * of a fork bomb or a runaway server (it works even when no process can start inside).
   * Returns how many processes it killed.
   *
   * @example
   * await sb.runCode("(setsid bash -c ':(){ :|:& };:' &)", "bash");
   * const { killed } = await sb.killProcesses();
   */
  async killProcesses(): Promise<{ killed: number }> {
    this.#assertOpen();
    const res = await this.#http.json<{ killed: number }>("POST", this.#path("/kill_processes"));
    return { killed: Number(res?.killed ?? 0) };
  }

  /**
   * Restarts the REPL: a fresh interpreter with an empty `__main__`. Files and the sandbox
   * stay; processes started from it (bash `&` jobs, subprocesses, the processes API's) end.
   *
   * @example
   * await sb.restartRepl();
   * await sb.runCode("print('x' in globals())"); // False
   */
  async restartRepl(): Promise<void> {
    this.#assertOpen();
    await this.#http.request("POST", this.#path("/restart_repl"));
  }

  /**
   * Creates a REPL context: its own `__main__` namespace (and, with `cwd`, the directory
   * its cells start in) in this sandbox, at most 32 with the default one. Contexts are
   * copied into fork children and lost when the REPL restarts.
   *
   * @example
   * const ctx = await sb.createContext({ cwd: "/tmp" });
   * await sb.runCode("x = 1", "python", { context: ctx });
   */
  async createContext(opts: { cwd?: string } = {}): Promise<Context> {
    this.#assertOpen();
    return contexts.createContext(this.#http, sandboxPath(this.#ref, ""), opts);
  }

  /**
   * The sandbox's REPL contexts, the default one (`id: "default"`) first.
   *
   * @example
   * const ids = (await sb.listContexts()).map((c) => c.id);
   */
  async listContexts(): Promise<Context[]> {
    this.#assertOpen();
    return contexts.listContexts(this.#http, sandboxPath(this.#ref, ""));
  }

  /**
   * Empties a context's namespace; its id and cwd stay.
   *
   * @example
   * await sb.restartContext(ctx);
   */
  async restartContext(context: Context | string): Promise<Context> {
    this.#assertOpen();
    return contexts.restartContext(this.#http, sandboxPath(this.#ref, ""), context);
  }

  /**
   * Deletes a context (not the default one); an exec in it then answers 404 `not_found`.
   *
   * @example
   * await sb.deleteContext(ctx);
   */
  async deleteContext(context: Context | string): Promise<void> {
    this.#assertOpen();
    await contexts.deleteContext(this.#http, sandboxPath(this.#ref, ""), context);
  }

  /**
   * Freezes the sandbox to disk as a persistent Space and returns the Space id. This
   * object is closed afterwards; continue with `Sandbox.resume(spaceId)`.
   *
   * @example
   * const sb = await Sandbox.create({ persistent: true });
   * await sb.runCode("x = 42");
   * const spaceId = await sb.freeze();
   * const later = await Sandbox.resume(spaceId);
   */
  async freeze(): Promise<string> {
    this.#assertOpen();
    const spaceId = await freezeToSpace(this.#ref);
    this.#life.frozen(spaceId);
    return spaceId;
  }

  /**
   * Changes how long the sandbox may stay idle (no API call) before it is closed, or
   * frozen if persistent. The server may clamp it to your tier; `applied` is updated
   * when the server says what it applied.
   *
   * @example
   * await sb.setTimeout(3600);
   */
  async setTimeout(idleTimeoutS: number): Promise<void> {
    this.#assertOpen();
    const res = await changeTimeout(this.#ref, idleTimeoutS);
    if (res.applied) this.applied = res.applied;
    else if (this.applied && res.idleTimeoutS !== undefined) this.applied = { ...this.applied, idleTimeoutS: res.idleTimeoutS };
  }

  /**
   * Changes the sandbox's egress policy (and, with `egress`, turns its network on or off).
   * Takes effect for the next connection; connections already open keep going.
   *
   * @example
   * await sb.setNetwork({ allowOut: ["pypi.org", "files.pythonhosted.org"] });
   */
  async setNetwork(opts: NetworkPolicy & { egress?: boolean }): Promise<NetworkInfo | null> {
    this.#assertOpen();
    const res = await changeNetwork(this.#ref, opts);
    if (res.applied) this.applied = res.applied;
    return res.network;
  }

  /**
   * URL that proxies HTTP to `port` inside the sandbox.
   *
   * @example
   * await sb.runCode("python3 -m http.server 8000 &", "bash");
   * const res = await fetch(sb.getUrl(8000));
   */
  getUrl(port: number): string {
    return `${this.#http.host}/v1/sandboxes/${this.id}/ports/${port}/`;
  }

  /**
   * Destroys the sandbox. Safe to call twice, and a sandbox the server already removed
   * (reaped, merged away) counts as closed. Any later call on this object throws
   * {@link SandboxClosedError}.
   *
   * @example
   * const sb = await Sandbox.create();
   * try { await sb.runCode("print(1)"); } finally { await sb.close(); }
   */
  close(): Promise<void> {
    return this.#life.close(() => this.#http.request("DELETE", this.#path("")));
  }

  #assertOpen(): void {
    this.#life.assertOpen();
  }

  #path(suffix: string): string {
    return sandboxPath(this.#ref, suffix);
  }
}
