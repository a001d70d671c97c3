// One exec call against a guest kernel: stream output, enforce timeout_ms, and recover when
// the kernel dies (out of memory, or killed because it ignored the interrupt).
//
// Escalation: at timeout_ms the code is interrupted (KeyboardInterrupt inside the REPL,
// SIGTERM for bash) and keeps its state; if it has not stopped killGraceMs later, the kernel is
// killed and restarted empty, and the answer says so on stderr.
import { ExitCode, type Language } from "@podflare/protocol";
import type { GuestFrame } from "@podflare/protocol";
import { LineSplitter } from "./output-lines.js";
import type { RuntimeSandbox } from "./types.js";

export interface ExecOptions {
  code: string;
  language: Language;
  timeoutMs: number;
  killGraceMs: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Aborted when the client went away: treated like a timeout, without the message. */
  signal?: AbortSignal;
  memoryMb: number;
  /**
   * Aborted when the sandbox reaches max_lifetime_s: interrupted like a timeout, and the exit is
   * ExitCode.Expired with the reason (`expiry.reason`, a sentence) on stderr.
   */
  expiry?: AbortSignal;
}

export type ExecOutput = (stream: "stdout" | "stderr", line: string) => void;

export async function runExec(sb: RuntimeSandbox, opts: ExecOptions, output: ExecOutput): Promise<number> {
  const conn = await sb.control();
  const oomBefore = sb.oomKills();
  const stdout = new LineSplitter((l) => output("stdout", l));
  const stderr = new LineSplitter((l) => output("stderr", l));

  return new Promise<number>((resolve) => {
    let timedOut = false;
    let expired = false;
    let killed = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    // Declared before the handlers that clear it, assigned once the exec frame is on its way.
    // eslint-disable-next-line prefer-const
    let timeoutTimer: NodeJS.Timeout | undefined;
    // Assigned below, once the close listener exists; finish() may run before that.
    // eslint-disable-next-line prefer-const
    let stopWatchingClose: (() => void) | undefined;

    const finish = (code: number, note?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      opts.expiry?.removeEventListener("abort", onExpiry);
      stopWatchingClose?.();
      conn.release(id);
      stdout.end();
      if (note) stderr.push(Buffer.from(note));
      stderr.end();
      resolve(code);
    };

    const interrupt = () => {
      if (settled || conn.closed || killTimer) return;
      try {
        conn.send({ t: "interrupt", id });
      } catch {
        /* connection already gone: the close handler finishes the call */
      }
      killTimer = setTimeout(() => {
        killed = true;
        sb.killKernel();
      }, opts.killGraceMs);
    };

    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      if (h.t === "out") (h.fd === 2 ? stderr : stdout).push(frame.body);
      else if (h.t === "exit") {
        if (expired) finish(ExitCode.Expired, expiryNote());
        else if (timedOut) {
          finish(
            ExitCode.Timeout,
            `\nTimeoutError: execution exceeded timeout_ms=${opts.timeoutMs} and was interrupted; ` +
              `the REPL kept its state. Raise timeout_ms or split the work.\n`,
          );
        } else finish(h.code);
      }
    });

    stopWatchingClose = conn.onClose(() => {
      if (settled) return;
      const oom = sb.oomKills() > oomBefore;
      let note: string;
      if (expired) {
        finish(ExitCode.Expired, expiryNote());
        return;
      }
      if (oom) {
        note =
          `\nMemoryError: the sandbox ran out of memory (limit ${opts.memoryMb} MB); the process was ` +
          `killed and the REPL restarted with empty state. Use less memory or create the sandbox ` +
          `with a larger memory_mb.\n`;
      } else if (killed && timedOut) {
        note =
          `\nTimeoutError: execution exceeded timeout_ms=${opts.timeoutMs} and ignored the interrupt; ` +
          `the REPL was killed and restarted with empty state.\n`;
      } else {
        note = `\nRuntimeError: the REPL process died; it was restarted with empty state.\n`;
      }
      finish(ExitCode.Killed, note);
    });

    function onAbort(): void {
      interrupt();
    }
    opts.signal?.addEventListener("abort", onAbort);
    function onExpiry(): void {
      expired = true;
      interrupt();
    }
    function expiryNote(): string {
      return `\nSandboxExpired: ${String(opts.expiry?.reason ?? "the sandbox reached its max_lifetime_s")}\n`;
    }
    opts.expiry?.addEventListener("abort", onExpiry);

    timeoutTimer = setTimeout(() => {
      timedOut = true;
      interrupt();
    }, opts.timeoutMs);

    try {
      conn.send({ t: "exec", id, lang: opts.language, code: opts.code, env: opts.env, cwd: opts.cwd });
    } catch {
      // The close listener above settles the call.
    }
    if (opts.signal?.aborted) interrupt();
    if (opts.expiry?.aborted) onExpiry();
  });
}
