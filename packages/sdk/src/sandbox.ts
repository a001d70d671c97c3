// The Sandbox class: one object per sandbox id, all calls through a shared HttpClient.

import type { IncomingMessage } from "node:http";
import { compareSnapshots, diffCode, type Snapshot } from "./diff.js";
import {
  IsADirectoryError,
  MethodNotAllowedError,
  NotADirectoryError,
  NotFoundError,
  ProtocolError,
  SandboxClosedError,
  SandboxNotFoundError,
  SandboxRuntimeError,
} from "./errors.js";
import { NdjsonDecoder, toExecEvent, type ExecEvent, type ExecResult } from "./events.js";
import { HttpClient, streamError } from "./http.js";
import {
  fromApplied,
  fromFileEntry,
  fromNetworkInfo,
  fromSandboxInfo,
  toNetworkPolicy,
  snakeToCamel,
  toCreateRequest,
  type AppliedLimits,
  type ConnectionOptions,
  type DiffResult,
  type FileEntry,
  type Language,
  type NetworkInfo,
  type NetworkPolicy,
  type RunOptions,
  type SandboxInfo,
  type SandboxOptions,
} from "./types.js";
import type * as wire from "./wire.js";
import { Filesystem } from "./filesystem.js";
import { Processes } from "./processes.js";
import { Pty } from "./pty.js";

type Lifecycle = { state: "open" } | { state: "closed" } | { state: "merged"; into: string } | { state: "frozen"; spaceId: string };

interface SandboxInit {
  template?: string | undefined;
  applied?: AppliedLimits | undefined;
  clamped?: string[] | undefined;
  warnings?: string[] | undefined;
}

const enc = encodeURIComponent;

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
  #life: Lifecycle = { state: "open" };
  #closing: Promise<void> | undefined;

  private constructor(http: HttpClient, id: string, init: SandboxInit) {
    this.#http = http;
    this.id = id;
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
    return this.#life.state === "open";
  }

  /**
   * Creates a sandbox. Options are camelCase and sent snake_case; unset ones are not sent.
   *
   * @example
   * const sb = await Sandbox.create({ template: "default", memoryMb: 2048, idleTimeoutS: 600 });
   * console.log(sb.id, sb.applied?.memoryMb, sb.clamped); // clamped: e.g. ["memoryMb"]
   */
  static async create(opts: SandboxOptions = {}): Promise<Sandbox> {
    const http = new HttpClient(opts);
    const res = await http.json<wire.CreateSandboxResponse>("POST", "/v1/sandboxes", { json: toCreateRequest(opts) });
    return Sandbox.#fromCreateAnswer(http, res, "POST /v1/sandboxes", opts.template);
  }

  /**
   * Attaches to an existing sandbox by id. Checks it exists when the server can say
   * (throws {@link SandboxNotFoundError} if not).
   *
   * @example
   * const sb = await Sandbox.connect("sbx_0123456789abcdef0123456789abcdef");
   * await sb.runCode("print(x)"); // the REPL state is the sandbox's, not the object's
   */
  static async connect(id: string, opts: ConnectionOptions = {}): Promise<Sandbox> {
    const http = new HttpClient(opts);
    try {
      const info = await http.json<wire.SandboxInfo>("GET", `/v1/sandboxes/${enc(id)}`);
      return new Sandbox(http, id, { template: info?.template, applied: fromApplied(info?.applied) });
    } catch (err) {
      // A server without GET /v1/sandboxes/:id (route 404 or 405): attach without checking.
      const routeMissing =
        (err instanceof NotFoundError && !(err instanceof SandboxNotFoundError) && err.code === "not_found") ||
        err instanceof MethodNotAllowedError;
      if (routeMissing) return new Sandbox(http, id, {});
      throw err;
    }
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
  static async resume(spaceId: string, opts: ConnectionOptions = {}): Promise<Sandbox> {
    const http = new HttpClient(opts);
    const path = `/v1/spaces/${enc(spaceId)}/resume`;
    const res = await http.json<wire.CreateSandboxResponse>("POST", path, opts.region !== undefined ? { json: { region: opts.region } } : {});
    return Sandbox.#fromCreateAnswer(http, res, `POST ${path}`, undefined);
  }

  /**
   * Lists the sandboxes this key can see.
   *
   * @example
   * for (const s of await Sandbox.listSandboxes()) console.log(s.id, s.state);
   */
  static async listSandboxes(opts: ConnectionOptions = {}): Promise<SandboxInfo[]> {
    const http = new HttpClient(opts);
    const res = await http.json<wire.ListSandboxesResponse>("GET", "/v1/sandboxes");
    return (res?.sandboxes ?? []).map(fromSandboxInfo);
  }

  static #fromCreateAnswer(http: HttpClient, res: wire.CreateSandboxResponse | undefined, what: string, template: string | undefined): Sandbox {
    if (!res || typeof res.id !== "string") throw new ProtocolError(`${what} answered without a sandbox id`);
    return new Sandbox(http, res.id, {
      template: res.template ?? template,
      applied: fromApplied(res.applied),
      clamped: Array.isArray(res.clamped) ? res.clamped : [],
      warnings: Array.isArray(res.warnings) ? res.warnings : [],
    });
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
    const res = await this.#openExec(code, language, opts);
    return collectExec(res, `exec in ${this.id}`);
  }

  /**
   * Runs code and yields its events as they are produced: `stdout`/`stderr` lines (each
   * keeping its newline) and a last `exit` event. Breaking out of the loop drops the
   * connection, and hostd then interrupts the code as on a timeout.
   *
   * @example
   * for await (const ev of sb.runCodeStream("for i in range(3): print(i)")) {
   *   if (ev.type === "stdout") process.stdout.write(ev.data);
   *   else if (ev.type === "exit") console.log("exit", ev.data);
   * }
   */
  async *runCodeStream(code: string, language: Language = "python", opts: RunOptions = {}): AsyncGenerator<ExecEvent, void, undefined> {
    const res = await this.#openExec(code, language, opts);
    const decoder = new NdjsonDecoder();
    let exited = false;
    try {
      for await (const chunk of res) {
        for (const value of decoder.push(chunk as Buffer)) {
          const ev = toExecEvent(value);
          if (!ev) continue;
          if (ev.type === "exit") exited = true;
          yield ev;
        }
      }
      for (const value of decoder.end()) {
        const ev = toExecEvent(value);
        if (!ev) continue;
        if (ev.type === "exit") exited = true;
        yield ev;
      }
    } catch (err) {
      throw streamError(err, `exec in ${this.id}`);
    } finally {
      if (!res.complete) res.destroy();
    }
    if (!exited) throw new ProtocolError(`exec in ${this.id}: the stream ended without an exit event`);
  }

  #openExec(code: string, language: Language, opts: RunOptions): Promise<IncomingMessage> {
    this.#assertOpen();
    const body: wire.ExecRequest = { code, language };
    if (opts.timeoutMs !== undefined) body.timeout_ms = opts.timeoutMs;
    if (opts.env !== undefined) body.env = opts.env;
    if (opts.cwd !== undefined) body.cwd = opts.cwd;
    // The server is silent while code runs; only an exec with a deadline gets a client one.
    const timeoutMs = opts.timeoutMs !== undefined ? opts.timeoutMs + this.#http.timeoutMs : 0;
    return this.#http.open("POST", this.#path("/exec"), { json: body, timeoutMs, accept: "application/x-ndjson" });
  }

  /**
   * Writes `data` to the file `path` in the sandbox, creating parent directories (a
   * relative path is taken from /root). Strings are written as UTF-8. The order is always
   * Podflare's `(data, path)`: two strings are never reordered by their look.
   *
   * @example
   * await sb.upload(new Uint8Array([1, 2, 3]), "/root/data.bin");
   * await sb.upload("hello\n", "/root/notes.txt");
   */
  async upload(data: Uint8Array | string, path: string): Promise<void> {
    this.#assertOpen();
    uploadArgs(data, path);
    const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    await this.#http.request("PUT", this.#filePath(path), { body, contentType: "application/octet-stream" });
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
    const res = await this.#http.request("GET", this.#filePath(path));
    if (isJson(res.headers["content-type"])) {
      throw new IsADirectoryError(`${path} is a directory in sandbox ${this.id}; use list(${JSON.stringify(path)}) to see its entries`);
    }
    return res.body;
  }

  /**
   * Lists a directory in the sandbox. A file throws {@link NotADirectoryError}: use `download(path)`.
   *
   * @example
   * for (const e of await sb.list("/root")) console.log(e.type, e.name, e.size);
   */
  async list(path: string): Promise<FileEntry[]> {
    this.#assertOpen();
    const res = await this.#http.request("GET", this.#filePath(path), { accept: "application/json" });
    if (!isJson(res.headers["content-type"])) {
      throw new NotADirectoryError(`${path} is a file in sandbox ${this.id}; use download(${JSON.stringify(path)}) to read it`);
    }
    let listing: wire.DirListing;
    try {
      listing = JSON.parse(res.body.toString("utf8")) as wire.DirListing;
    } catch {
      throw new ProtocolError(`listing of ${path} is not valid JSON`);
    }
    if (!Array.isArray(listing?.entries)) throw new ProtocolError(`listing of ${path} has no entries array`);
    return listing.entries.map(fromFileEntry);
  }

  /**
   * Removes a file, symlink or directory tree in the sandbox.
   *
   * @example
   * await sb.remove("/root/data.bin");
   */
  async remove(path: string): Promise<void> {
    this.#assertOpen();
    await this.#http.request("DELETE", this.#filePath(path));
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
    const res = await this.#http.json<{ children: string[] }>("POST", this.#path("/fork"), { json: { n } });
    if (!res || !Array.isArray(res.children)) throw new ProtocolError(`fork of ${this.id} answered without children`);
    return res.children.map((id) => new Sandbox(this.#http, id, { template: this.template, applied: this.applied }));
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
    await this.#http.request("POST", this.#path(`/merge_into/${enc(winnerId)}`));
    if (winner instanceof Sandbox) winner.#life = { state: "merged", into: this.id };
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
    const code = diffCode(paths);
    const [mine, theirs] = await Promise.all([this.#snapshot(code), other.#snapshot(code)]);
    return compareSnapshots(mine, theirs);
  }

  async #snapshot(code: string): Promise<Snapshot> {
    const r = await this.runCode(code, "python");
    const line = r.stdout.trimEnd().split("\n").pop() ?? "";
    if (r.exitCode === 0) {
      try {
        return JSON.parse(line) as Snapshot;
      } catch {
        // fall through to the error below
      }
    }
    throw new SandboxRuntimeError(`diff helper failed in ${this.id} (exit ${r.exitCode}): ${(r.stderr || line).slice(-500)}`);
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
   * Restarts the REPL: a fresh interpreter with an empty `__main__`. Files, the sandbox and
   * its other processes stay.
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
    const res = await this.#http.json<{ space_id: string }>("POST", this.#path("/freeze"));
    if (!res || typeof res.space_id !== "string") throw new ProtocolError(`freeze of ${this.id} answered without space_id`);
    this.#life = { state: "frozen", spaceId: res.space_id };
    return res.space_id;
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
    const res = await this.#http.json<{ applied?: wire.AppliedLimits; idle_timeout_s?: number }>("POST", this.#path("/timeout"), {
      json: { idle_timeout_s: idleTimeoutS },
    });
    if (res?.applied) this.applied = fromApplied(res.applied);
    else if (this.applied && typeof res?.idle_timeout_s === "number") this.applied = { ...this.applied, idleTimeoutS: res.idle_timeout_s };
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
    const { egress, ...policy } = opts;
    const body: wire.SetNetworkRequest = { ...toNetworkPolicy(policy), ...(egress === undefined ? {} : { egress }) };
    const res = await this.#http.json<wire.SandboxInfo>("PUT", this.#path("/network"), { json: body });
    if (res?.applied) this.applied = fromApplied(res.applied);
    return fromNetworkInfo(res?.network);
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
    if (this.#life.state !== "open") return Promise.resolve();
    this.#closing ??= this.#http.request("DELETE", this.#path("")).then(
      () => {
        this.#life = { state: "closed" };
      },
      (err: unknown) => {
        this.#closing = undefined;
        if (err instanceof SandboxNotFoundError) {
          this.#life = { state: "closed" };
          return;
        }
        throw err;
      },
    );
    return this.#closing;
  }

  #assertOpen(): void {
    const life = this.#life;
    if (life.state === "open") return;
    if (life.state === "merged") {
      throw new SandboxClosedError(`sandbox ${this.id} was merged into ${life.into}; use that sandbox's object`);
    }
    if (life.state === "frozen") {
      throw new SandboxClosedError(`sandbox ${this.id} was frozen into Space ${life.spaceId}; continue with Sandbox.resume("${life.spaceId}")`);
    }
    throw new SandboxClosedError(`sandbox ${this.id} is closed; create a new one with Sandbox.create()`);
  }

  #path(suffix: string): string {
    return `/v1/sandboxes/${enc(this.id)}${suffix}`;
  }

  #filePath(path: string): string {
    if (typeof path !== "string" || path === "") throw new TypeError("a file path must be a non-empty string, e.g. \"/root/data.csv\"");
    return `${this.#path("/files")}?path=${enc(path)}`;
  }
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\b/i.test(contentType);
}

/**
 * Checks `upload`'s arguments: data (Uint8Array or string) first, the path (string) second,
 * as Podflare's SDKs take them. Nothing is guessed from the values: a call with the two
 * swapped would otherwise write the content under a name made of the path.
 */
export function uploadArgs(data: Uint8Array | string, path: string): [Uint8Array | string, string] {
  if ((path as unknown) instanceof Uint8Array && typeof data === "string") {
    throw new TypeError(`upload(data, path) takes the data first and the path second: upload(<bytes>, ${JSON.stringify(data.slice(0, 60))})`);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError('upload(data, path): path must be a non-empty string, e.g. upload("hello", "/root/notes.txt")');
  }
  if (typeof data !== "string" && !(data instanceof Uint8Array)) {
    throw new TypeError("upload(data, path): data must be a Uint8Array (e.g. a Buffer) or a string");
  }
  return [data, path];
}

/** Reads a whole exec answer without per-event allocation of iterator objects: the hot path. */
function collectExec(res: IncomingMessage, what: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const decoder = new NdjsonDecoder();
    const stdout: string[] = [];
    const stderr: string[] = [];
    let exitCode: number | undefined;
    let failed = false;
    const take = (values: unknown[]): void => {
      for (const value of values) {
        const ev = toExecEvent(value);
        if (ev === undefined) continue;
        if (ev.type === "exit") exitCode = ev.data;
        else if (ev.type === "stdout") stdout.push(ev.data);
        else stderr.push(ev.data);
      }
    };
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      res.destroy();
      reject(streamError(err, what));
    };
    res.on("data", (chunk: Buffer) => {
      try {
        take(decoder.push(chunk));
      } catch (err) {
        fail(err);
      }
    });
    res.on("end", () => {
      if (failed) return;
      try {
        take(decoder.end());
      } catch (err) {
        fail(err);
        return;
      }
      if (exitCode === undefined) fail(new ProtocolError(`${what}: the stream ended without an exit event`));
      else resolve({ stdout: stdout.join(""), stderr: stderr.join(""), exitCode });
    });
    res.on("error", fail);
  });
}
