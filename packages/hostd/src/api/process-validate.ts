// Request checks for the process and PTY routes: every field typed, bounded, and a message
// that says what to send instead.
import { PodflareError, processLimits, processSignals, type ProcessSelector, type StartProcessRequest } from "@podflare/protocol";

const bad = (msg: string) => new PodflareError("bad_request", msg);

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
  const { cmd, args, env, cwd, user, tag, stdin, pty } = body;
  const known = new Set(["cmd", "args", "env", "cwd", "user", "tag", "stdin", "pty"]);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw bad(`unknown field(s) ${unknown.join(", ")}; a process takes cmd, args, env, cwd, user, tag, stdin, pty`);
  const out: StartProcessRequest & { cmd: string } = { cmd: "" };
  if (pty !== undefined) out.pty = parseSize((pty ?? {}) as Record<string, unknown>);
  if (cmd === undefined && out.pty) {
    out.cmd = "/bin/bash";
    out.args = ["-i", "-l"];
  } else if (typeof cmd !== "string" || cmd === "" || cmd.includes("\0")) {
    throw bad("cmd must be a non-empty string without NUL: a program (with args) or a shell command line (without args)");
  } else out.cmd = cmd;
  if (args !== undefined) {
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string" && !a.includes("\0"))) throw bad("args must be an array of strings without NUL");
    out.args = args as string[];
  }
  if (env !== undefined) {
    if (typeof env !== "object" || env === null || Array.isArray(env)) throw bad("env must be an object of strings");
    for (const [k, v] of Object.entries(env)) {
      if (!k || k.includes("=") || k.includes("\0") || typeof v !== "string" || v.includes("\0")) throw bad(`env ${JSON.stringify(k)}: names without = or NUL, string values without NUL`);
    }
    out.env = env as Record<string, string>;
  }
  if (cwd !== undefined) {
    if (typeof cwd !== "string" || cwd === "" || cwd.includes("\0")) throw new PodflareError("invalid_path", "cwd must be a non-empty path without NUL");
    out.cwd = cwd;
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
