// Request validation: every wrong field gets a 400 that names the field and what it takes.
import {
  PodflareError,
  languages,
  limits,
  processLimits,
  processSignals,
  type ProcessSelector,
  type StartProcessRequest,
  type CreateKeyRequest,
  type CreateSandboxRequest,
  type ExecRequest,
  type Language,
  type NetworkPolicy,
  type SetNetworkRequest,
} from "@podflare/protocol";
import { isTierName, tierNames } from "../auth/tiers.js";
import { keyNameProblem } from "../auth/keys.js";
import { parsePolicy } from "../network/policy.js";

function bad(message: string): PodflareError {
  return new PodflareError("bad_request", message);
}

function optInt(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optBool(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw bad(`${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

// A lone UTF-16 surrogate cannot be written as UTF-8: the guest, a process's environment and
// SQLite would each fail on it later, as a 500.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Refuses a string that is not well-formed Unicode, naming the field. */
export function checkText(v: string, field: string): string {
  if (LONE_SURROGATE.test(v)) throw bad(`${field} holds a lone UTF-16 surrogate (e.g. "\\udfff"), which is not text; send well-formed Unicode (encode binary data as base64)`);
  return v;
}

function optStringMap(body: Record<string, unknown>, field: "env" | "metadata"): Record<string, string> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw bad(`${field} must be an object of string values`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw bad(`${field}.${k} must be a string, got ${JSON.stringify(val)}`);
    if (k.includes("\0") || val.includes("\0")) throw bad(`${field}.${k} must not contain NUL bytes`);
    if (field === "env" && (k === "" || k.includes("="))) throw bad(`env name ${JSON.stringify(k)} is not valid`);
  }
  return field === "env" ? checkEnv(v as Record<string, string>) : checkMetadata(v as Record<string, string>);
}

/** Size of a map's keys and values in UTF-8, and its key count, refused past the limits (and lone surrogates). */
function checkMap(map: Record<string, string>, field: string, maxKeys: number, maxBytes: number, what: string): Record<string, string> {
  const keys = Object.keys(map);
  if (keys.length > maxKeys) throw bad(`${field} has ${keys.length} ${what}; at most ${maxKeys} are allowed`);
  let bytes = 0;
  for (const k of keys) {
    checkText(k, `${field} name ${JSON.stringify(k.slice(0, 64))}`);
    checkText(map[k]!, `${field}.${k.slice(0, 64)}`);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(map[k]!);
  }
  if (bytes > maxBytes) throw bad(`${field} takes ${bytes} bytes (names and values, UTF-8); at most ${maxBytes} are allowed`);
  return map;
}

function checkMetadata(map: Record<string, string>): Record<string, string> {
  return checkMap(map, "metadata", limits.maxMetadataKeys, limits.maxMetadataBytes, "keys; keep labels in metadata and put larger data in a file in the sandbox");
}

/** `env` of a create, an exec or a process start. */
export function checkEnv(map: Record<string, string>): Record<string, string> {
  return checkMap(map, "env", limits.maxEnvVars, limits.maxEnvBytes, "variables; pass large data as a file in the sandbox");
}

function optString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "" || v.includes("\0")) throw bad(`${field} must be a non-empty string`);
  return checkText(v, field);
}

/**
 * A field we do not know is refused, never dropped: a typo (`langauge`, `count` for `n`) would
 * otherwise run with the default silently.
 */
function rejectUnknown(body: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length) throw bad(`unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")}; ${what} takes ${known.join(", ")}`);
}

const CREATE_FIELDS = ["template", "persistent", "egress", "memory_mb", "disk_mb", "vcpus", "idle_timeout_s", "max_lifetime_s", "lifetime_s", "env", "metadata", "network", "region"] as const;
const EXEC_FIELDS = ["code", "language", "timeout_ms", "env", "cwd", "context_id", "results"] as const;

export function parseCreate(body: Record<string, unknown>): CreateSandboxRequest {
  rejectUnknown(body, CREATE_FIELDS, "a create");
  const template = optString(body, "template");
  if (template !== undefined && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(template)) {
    throw bad(`template must be a template name like "default", got ${JSON.stringify(template)}`);
  }
  return {
    template,
    persistent: optBool(body, "persistent"),
    egress: optBool(body, "egress"),
    memory_mb: optInt(body, "memory_mb", 64, 1 << 20),
    disk_mb: optInt(body, "disk_mb", 64, 1 << 30),
    vcpus: optInt(body, "vcpus", 1, 1024),
    idle_timeout_s: optInt(body, "idle_timeout_s", 1, 30 * 86400),
    max_lifetime_s: optInt(body, "max_lifetime_s", 1, 365 * 86400),
    lifetime_s: optInt(body, "lifetime_s", 1, 365 * 86400),
    env: optStringMap(body, "env"),
    metadata: optStringMap(body, "metadata"),
    network: optNetwork(body),
  };
}

function optNetwork(body: Record<string, unknown>): NetworkPolicy | undefined {
  const v = body.network;
  if (v === undefined || v === null) return undefined;
  parsePolicy(v);
  return v as NetworkPolicy;
}

export function parseExec(
  body: Record<string, unknown>,
  timeouts: { defaultTimeoutMs: number; maxTimeoutMs: number },
): Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest {
  rejectUnknown(body, EXEC_FIELDS, "an exec");
  const code = body.code;
  if (typeof code !== "string") throw bad(`code must be a string of ${body.language === "bash" ? "bash" : "Python"} code`);
  checkText(code, "code");
  if (Buffer.byteLength(code) > limits.maxCodeBytes) {
    throw new PodflareError("payload_too_large", `code is over ${limits.maxCodeBytes} bytes; upload it as a file and run that`);
  }
  const language = (body.language ?? "python") as Language;
  if (!languages.includes(language)) {
    throw new PodflareError(
      "unknown_language",
      `language must be one of ${languages.map((l) => JSON.stringify(l)).join(", ")}, got ${JSON.stringify(body.language)}`,
    );
  }
  const cwd = optString(body, "cwd");
  if (cwd !== undefined && !cwd.startsWith("/")) throw bad(`cwd must be an absolute path, got ${JSON.stringify(cwd)}`);
  const contextId = optString(body, "context_id");
  const results = optBool(body, "results");
  return {
    code,
    language,
    timeout_ms: optInt(body, "timeout_ms", 1, timeouts.maxTimeoutMs) ?? timeouts.defaultTimeoutMs,
    env: optStringMap(body, "env"),
    cwd,
    ...(contextId !== undefined ? { context_id: contextId } : {}),
    ...(results ? { results } : {}),
  };
}

/** The `path` query parameter of the files routes. */
export function parseFilePath(url: URL): string {
  const p = url.searchParams.get("path");
  if (p === null || p === "") throw new PodflareError("invalid_path", "give the file as ?path=/absolute/path");
  if (p.includes("\0")) throw new PodflareError("invalid_path", "path must not contain NUL bytes");
  if (p.length > 4096) throw new PodflareError("invalid_path", "path is longer than 4096 characters");
  return p;
}

/** `{n}` of POST /v1/sandboxes/:id/fork: 1 to limits.maxForkChildren (default 1 when missing). */
export function parseFork(body: Record<string, unknown>): number {
  rejectUnknown(body, ["n"], "a fork");
  const v = body.n ?? 1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > limits.maxForkChildren) {
    throw bad(`n must be an integer from 1 to ${limits.maxForkChildren}, got ${typeof v === "number" ? String(v) : JSON.stringify(body.n)}`);
  }
  return v;
}

/** `{idle_timeout_s?, lifetime_s?}` of POST /v1/sandboxes/:id/timeout (the caps are applied later). */
export function parseSetTimeout(body: Record<string, unknown>): { idleTimeoutS?: number; lifetimeS?: number } {
  rejectUnknown(body, ["idle_timeout_s", "lifetime_s"], "a timeout change");
  const idle = body.idle_timeout_s;
  if (idle !== undefined && (typeof idle !== "number" || !Number.isInteger(idle) || idle < 1 || idle > 30 * 86400)) {
    throw bad(`idle_timeout_s must be an integer number of seconds from 1 to ${30 * 86400}, got ${JSON.stringify(idle)}`);
  }
  const lifetimeS = optInt(body, "lifetime_s", 1, 365 * 86400);
  if (idle === undefined && lifetimeS === undefined) throw bad("give idle_timeout_s, lifetime_s or both (seconds)");
  return { ...(idle !== undefined ? { idleTimeoutS: idle as number } : {}), ...(lifetimeS !== undefined ? { lifetimeS } : {}) };
}

/** Body of PUT /v1/sandboxes/:id/network; the policy itself is checked where it is applied. */
export function parseSetNetwork(body: Record<string, unknown>): SetNetworkRequest {
  const { egress, ...policy } = body;
  if (egress !== undefined && typeof egress !== "boolean") throw bad("egress must be true or false");
  return { ...(policy as SetNetworkRequest), ...(egress === undefined ? {} : { egress }) };
}

/** Body of POST /v1/keys, with its defaults filled in. */
export function parseCreateKey(body: Record<string, unknown>): Required<CreateKeyRequest> {
  const tier = body.tier ?? "free";
  if (!isTierName(tier)) throw bad(`tier must be one of ${tierNames.join(", ")}, got ${JSON.stringify(body.tier)}`);
  if (body.name !== undefined && (typeof body.name !== "string" || body.name.length > 200)) {
    throw bad("name must be a string of at most 200 characters");
  }
  const nameProblem = typeof body.name === "string" ? keyNameProblem(body.name) : undefined;
  if (nameProblem) throw bad(nameProblem);
  if (body.admin !== undefined && typeof body.admin !== "boolean") throw bad("admin must be true or false");
  return { name: (body.name as string | undefined) ?? "unnamed", tier, admin: body.admin === true };
}

/** Body of POST /v1/sandboxes/:id/contexts: an optional absolute cwd (checked to exist by the guest). */
export function parseCreateContext(body: Record<string, unknown>): string | undefined {
  if (body.language !== undefined && body.language !== null && body.language !== "python") {
    throw new PodflareError(
      "unknown_language",
      `a context is a Python REPL, got language ${JSON.stringify(body.language)}; run bash with an exec of language "bash" (a fresh bash -c each time)`,
    );
  }
  const cwd = body.cwd;
  if (cwd === undefined || cwd === null) return undefined;
  if (typeof cwd !== "string" || !cwd.startsWith("/") || cwd.includes("\0") || cwd.length > 4096) {
    throw new PodflareError("bad_request", `cwd must be an absolute path of an existing directory, got ${JSON.stringify(cwd)}`);
  }
  return checkText(cwd, "cwd");
}

// ---- the process and PTY routes' requests (process-routes.ts, pty-routes.ts): every field
// typed, bounded, and a message that says what to send instead.

/** `:pid` in the URL: digits are a pid, anything else a tag. */
export function parseSelector(raw: string): ProcessSelector {
  if (/^\d{1,9}$/.test(raw)) return { pid: Number(raw) };
  if (processLimits.tagPattern.test(raw)) return { tag: raw };
  throw new PodflareError("process_not_found", `no process ${JSON.stringify(raw)}: give a pid or a tag (letters, digits, _.-)`);
}

export function parseSize(body: Record<string, unknown>): { rows: number; cols: number } {
  const { rows, cols } = body;
  for (const [name, v] of [["rows", rows], ["cols", cols]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 1000) throw bad(`${name} must be an integer from 1 to 1000, got ${JSON.stringify(v)}`);
  }
  return { rows: rows as number, cols: cols as number };
}

export function parseStart(body: Record<string, unknown>): StartProcessRequest & { cmd: string } {
  const { cmd, args, env, cwd, user, tag, stdin, pty, lossless } = body;
  const known = new Set(["cmd", "args", "env", "cwd", "user", "tag", "stdin", "pty", "lossless"]);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw bad(`unknown field(s) ${unknown.join(", ")}; a process takes cmd, args, env, cwd, user, tag, stdin, pty, lossless`);
  const out: StartProcessRequest & { cmd: string } = { cmd: "" };
  if (pty !== undefined) out.pty = parseSize((pty ?? {}) as Record<string, unknown>);
  if (cmd === undefined && out.pty) {
    out.cmd = "/bin/bash";
    out.args = ["-i", "-l"];
  } else if (typeof cmd !== "string" || cmd === "" || cmd.includes("\0")) {
    throw bad("cmd must be a non-empty string without NUL: a program (with args) or a shell command line (without args)");
  } else out.cmd = checkText(cmd, "cmd");
  if (args !== undefined) {
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string" && !a.includes("\0"))) throw bad("args must be an array of strings without NUL");
    (args as string[]).forEach((a, i) => checkText(a, `args[${i}]`));
    out.args = args as string[];
  }
  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) throw bad("env must be an object of strings");
    for (const [k, v] of Object.entries(env)) {
      if (!k || k.includes("=") || k.includes("\0") || typeof v !== "string" || v.includes("\0")) throw bad(`env ${JSON.stringify(k)}: names without = or NUL, string values without NUL`);
    }
    out.env = checkEnv(env as Record<string, string>);
  }
  if (cwd !== undefined) {
    if (typeof cwd !== "string" || cwd === "" || cwd.includes("\0")) throw new PodflareError("invalid_path", "cwd must be a non-empty path without NUL");
    out.cwd = checkText(cwd, "cwd");
  }
  if (user !== undefined && user !== "root") throw bad(`user ${JSON.stringify(user)} is not supported: processes run as root (the sandbox's own root) today; leave user out`);
  if (tag !== undefined) {
    if (typeof tag !== "string" || !processLimits.tagPattern.test(tag)) throw bad("tag must be 1-64 letters, digits or _.- and not only digits");
    out.tag = tag;
  }
  if (stdin !== undefined) {
    if (typeof stdin !== "boolean") throw bad("stdin must be true or false");
    out.stdin = stdin;
  }
  if (lossless !== undefined) {
    if (typeof lossless !== "boolean") throw bad("lossless must be true or false");
    out.lossless = lossless;
  }
  return out;
}

export function parseSignal(body: Record<string, unknown>): number {
  const s = body.signal ?? "SIGKILL";
  if (typeof s === "number" && Number.isInteger(s) && s >= 1 && s <= 64) return s;
  if (typeof s === "string") {
    const name = (s.startsWith("SIG") ? s : `SIG${s}`).toUpperCase() as keyof typeof processSignals;
    if (name in processSignals) return processSignals[name];
  }
  throw bad(`signal must be one of ${Object.keys(processSignals).join(", ")} or a number from 1 to 64, got ${JSON.stringify(body.signal)}`);
}

export function parseInput(body: Record<string, unknown>): Buffer {
  const { data, data_base64: b64 } = body;
  let out: Buffer;
  if (typeof data === "string" && b64 === undefined) out = Buffer.from(data, "utf8");
  else if (typeof b64 === "string" && data === undefined) out = Buffer.from(b64, "base64");
  else throw bad("send {data: string} (UTF-8) or {data_base64: string}");
  if (out.length > processLimits.maxInputBytes) throw new PodflareError("payload_too_large", `stdin data over ${processLimits.maxInputBytes} bytes; send it in parts`);
  return out;
}

// ---- the filesystem API's bodies (fs-routes.ts)

/** A path field of a JSON body, under the files API's rules (parseFilePath). */
export function parseBodyPath(body: Record<string, unknown>, field: string): string {
  const url = new URL("http://x/");
  const v = body[field];
  if (typeof v !== "string") throw new PodflareError("invalid_path", `give ${field} as a string path, e.g. {"${field}": "/root/a"}`);
  url.searchParams.set("path", checkText(v, field));
  return parseFilePath(url);
}

/** A true/false field (or query value); absent is false. */
export function parseFlag(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new PodflareError("bad_request", `${name} must be true or false`);
}
