// envd's process.Process service mapped onto our processes API (docs/api.md, "Processes"):
// Start and Connect stream the process's events, the rest are one REST call each. Output bytes
// travel base64 both ways (proto `bytes` in Connect's JSON codec; `?encoding=base64` on ours).
import type { ProcessInfo } from "@podflare/protocol";
import { ConnectError, type ConnectStream } from "./connect-rpc.js";
import { ndjson, rest, restStream, sandboxPath, type RpcCall, type RpcMethod } from "./envd-rpc.js";
import { E2B_HOME, e2bPath } from "./home.js";

const KEEPALIVE = { event: { keepalive: {} } };

export function processMethods(): Record<string, RpcMethod> {
  return {
    Start: { kind: "stream", keepalive: KEEPALIVE, handle: start },
    Connect: {
      kind: "stream",
      keepalive: KEEPALIVE,
      handle: (call, out) => relay(call, out, selectorOf(call.message)),
    },
    List: {
      kind: "unary",
      handle: async (call) => {
        const body = (await rest(call, "GET", sandboxPath(call.ctx, "/processes"))) as { processes: ProcessInfo[] };
        // E2B lists running processes only; ours keeps the last exited ones too.
        return { processes: body.processes.filter((p) => p.running).map(processInfo) };
      },
    },
    SendInput: {
      kind: "unary",
      handle: async (call) => {
        const input = (call.message.input ?? {}) as { stdin?: unknown; pty?: unknown };
        const data = input.stdin ?? input.pty;
        if (typeof data !== "string") throw new ConnectError("invalid_argument", "input.stdin or input.pty (bytes, base64 in JSON) is required");
        // envd takes any size; ours takes at most 1 MiB a call: larger input goes in pieces, in order.
        for (const piece of base64Pieces(data, STDIN_PIECE_BYTES)) await rest(call, "POST", processPath(call, "/stdin"), { data_base64: piece });
        return {};
      },
    },
    SendSignal: {
      kind: "unary",
      handle: async (call) => {
        const signal = signalName(call.message.signal);
        // Our table keeps exited processes (their exit status); envd knows running ones only.
        const info = (await rest(call, "GET", processPath(call, ""))) as ProcessInfo;
        if (!info.running) throw new ConnectError("not_found", `process ${info.pid} has already exited (code ${info.exit_code})`);
        await rest(call, "POST", processPath(call, "/signal"), { signal });
        return {};
      },
    },
    CloseStdin: {
      kind: "unary",
      handle: async (call) => {
        await rest(call, "POST", processPath(call, "/close_stdin"));
        return {};
      },
    },
    Update: {
      kind: "unary",
      handle: async (call) => {
        const size = ((call.message.pty ?? {}) as { size?: { rows?: unknown; cols?: unknown } }).size;
        if (!size) return {}; // nothing to change
        await rest(call, "POST", processPath(call, "/resize"), { rows: size.rows, cols: size.cols });
        return {};
      },
    },
  };
}

async function start(call: RpcCall, out: ConnectStream): Promise<void> {
  const m = call.message;
  const config = (m.process ?? {}) as { cmd?: unknown; args?: unknown; envs?: unknown; cwd?: unknown };
  if (typeof config.cmd !== "string" || config.cmd === "") throw new ConnectError("invalid_argument", "process.cmd is required: the program to run, e.g. /bin/bash");
  const ptySize = ((m.pty ?? null) as { size?: { rows?: number; cols?: number } } | null)?.size;
  const body: Record<string, unknown> = {
    cmd: config.cmd,
    // envd runs cmd with args directly; ours does too when args are given (an empty list included).
    args: Array.isArray(config.args) ? config.args : [],
    stdin: m.stdin === true,
    // envd loses no output: nothing is dropped before the stream below attaches, nor after.
    lossless: true,
  };
  // As envd for its default user: HOME and the working directory are /home/user (home.ts).
  body.env = { HOME: E2B_HOME, ...(config.envs && typeof config.envs === "object" ? config.envs : {}) };
  body.cwd = typeof config.cwd === "string" && config.cwd !== "" ? e2bPath(config.cwd) : E2B_HOME;
  if (typeof m.tag === "string" && m.tag !== "") body.tag = m.tag;
  if (m.pty) body.pty = { rows: ptySize?.rows ?? 24, cols: ptySize?.cols ?? 80 };
  let info: ProcessInfo;
  try {
    info = (await rest(call, "POST", sandboxPath(call.ctx, "/processes"), body)) as ProcessInfo;
  } catch (err) {
    // A sandbox from a template or Space made before every template had /home/user.
    if (config.cwd || !(await homeMissing(call))) throw err;
    await rest(call, "POST", sandboxPath(call.ctx, "/fs/mkdir"), { path: E2B_HOME, parents: true });
    info = (await rest(call, "POST", sandboxPath(call.ctx, "/processes"), body)) as ProcessInfo;
  }
  const deadline = killAtDeadline(call, info);
  await relay(call, out, String(info.pid));
  clearTimeout(deadline); // it exited: nothing to kill
}

async function homeMissing(call: RpcCall): Promise<boolean> {
  const answer = await call.api.json("GET", sandboxPath(call.ctx, `/fs/stat?path=${encodeURIComponent(E2B_HOME)}`), { key: call.ctx.key, signal: call.signal });
  return answer.status === 404;
}

/**
 * envd runs a started process under the call's deadline (the SDK's `timeoutMs`, sent as
 * Connect-Timeout-Ms; 60 s by default, 0 for none) and kills it then, foreground or background,
 * whether or not the caller is still listening. A caller hanging up earlier kills nothing.
 * The timer holds the sandbox's path and the key only, never the call: a deadline weeks away
 * kept each call's request, answer and message (a 16 MiB field) alive until then, and enough of
 * them ran hostd out of memory (outside tester ti). Cleared when the process is seen to exit.
 */
function killAtDeadline(call: RpcCall, started: ProcessInfo): NodeJS.Timeout | undefined {
  const raw = call.ctx.req.headers["connect-timeout-ms"];
  const ms = typeof raw === "string" && /^\d{1,10}$/.test(raw) ? Number(raw) : 0;
  if (ms <= 0) return undefined;
  const { api } = call;
  const key = call.ctx.key;
  const path = sandboxPath(call.ctx, `/processes/${started.pid}`);
  const startedMs = started.started_ms;
  const timer = setTimeout(() => {
    // Not the call's signal: the deadline holds after the caller is gone.
    void api
      .json("GET", path, { key })
      .then((now) => {
        const p = now.body as ProcessInfo;
        // The same process (a pid can be reused once it exited), still running.
        if (now.status === 200 && p.running && p.started_ms === startedMs) return api.json("POST", `${path}/signal`, { key, body: { signal: "SIGKILL" } });
        return undefined;
      })
      .catch(() => undefined); // its sandbox closed meanwhile
  }, Math.min(ms, MAX_TIMER_MS));
  timer.unref();
  return timer;
}

// setTimeout's longest delay (~24.8 days); a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Streams a process's events as envd's: start {pid}, data {stdout|stderr|pty}, end. */
async function relay(call: RpcCall, out: ConnectStream, pid: string): Promise<void> {
  const up = await restStream(call, sandboxPath(call.ctx, `/processes/${encodeURIComponent(pid)}/stream?encoding=base64&lossless=true`));
  for await (const e of ndjson(up)) {
    const message = processEvent(e);
    if (message) await out.send(message);
    if (e.type === "exit") return;
  }
  throw new ConnectError("unavailable", "the process's stream ended before it exited (the sandbox closed, or its REPL restarted)");
}

/** One event of our process stream (with ?encoding=base64) as envd's ProcessEvent; null: none. */
export function processEvent(e: Record<string, unknown>): Record<string, unknown> | null {
  if (e.type === "start") return { event: { start: { pid: (e.process as ProcessInfo).pid } } };
  if (e.type === "stdout" || e.type === "stderr" || e.type === "pty") return { event: { data: { [e.type]: e.data_base64 } } };
  if (e.type === "exit") return { event: { end: endEvent(e.exit_code as number, e.signal as string | null) } };
  return null;
}

/** envd reports Go's os.ProcessState: a signalled process has exit code -1 and "signal: killed". */
function endEvent(exitCode: number, signal: string | null): Record<string, unknown> {
  if (signal) {
    const status = `signal: ${signal === "SIGKILL" ? "killed" : signal === "SIGTERM" ? "terminated" : signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const status = `exit status ${exitCode}`;
  return exitCode === 0 ? { exitCode: 0, exited: true, status } : { exitCode, exited: true, status, error: status };
}

export function processInfo(p: ProcessInfo): Record<string, unknown> {
  const info: Record<string, unknown> = { config: { cmd: p.cmd, args: p.args ?? [], envs: {}, cwd: p.cwd }, pid: p.pid };
  if (p.tag) info.tag = p.tag;
  return info;
}

/** `process: {pid}` or `process: {tag}` (ProcessSelector's oneof, flattened in JSON). */
function selectorOf(message: Record<string, unknown>): string {
  const sel = (message.process ?? {}) as { pid?: unknown; tag?: unknown };
  if (typeof sel.pid === "number" && Number.isInteger(sel.pid) && sel.pid > 0) return String(sel.pid);
  if (typeof sel.tag === "string" && sel.tag !== "") return sel.tag;
  throw new ConnectError("invalid_argument", "process.pid or process.tag is required: which process (sandbox.commands.list() shows them)");
}

function processPath(call: RpcCall, tail: string): string {
  return sandboxPath(call.ctx, `/processes/${encodeURIComponent(selectorOf(call.message))}${tail}`);
}

/** process.Signal: SIGNAL_SIGTERM (15) or SIGNAL_SIGKILL (9), by name or number. */
function signalName(raw: unknown): string {
  if (raw === "SIGNAL_SIGKILL" || raw === 9) return "SIGKILL";
  if (raw === "SIGNAL_SIGTERM" || raw === 15) return "SIGTERM";
  throw new ConnectError("invalid_argument", `signal ${JSON.stringify(raw ?? null)} is not one envd has: SIGNAL_SIGTERM or SIGNAL_SIGKILL`);
}

/** Under our stdin limit (1 MiB a call, docs/api.md) and a multiple of 3, so each piece is whole base64. */
const STDIN_PIECE_BYTES = 768 * 1024;

/** base64 text cut into pieces of at most `bytes` decoded bytes each (one piece when it is small). */
export function base64Pieces(data: string, bytes: number): string[] {
  const chars = (bytes / 3) * 4;
  if (data.length <= chars) return [data];
  const pieces: string[] = [];
  for (let i = 0; i < data.length; i += chars) pieces.push(data.slice(i, i + chars));
  return pieces;
}
