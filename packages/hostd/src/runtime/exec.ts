// One exec call against a guest kernel: stream output, enforce timeout_ms, and recover when
// the kernel dies (out of memory, or killed because it ignored the interrupt).
//
// Escalation: at timeout_ms the code is interrupted (KeyboardInterrupt inside the REPL,
// SIGTERM for bash) and keeps its state; if it has not stopped killGraceMs later, the kernel is
// killed and restarted empty, and the answer says so on stderr.
import { ExitCode, type ExecErrorEvent, type ExecResultEvent, type Language } from "@podflare/protocol";
import type { GuestFrame } from "@podflare/protocol";
import { FRAME_COST_BYTES, GuestProtocolError } from "./guest-connection.js";
import { LineSplitter } from "./output-lines.js";
import { RichResults } from "./rich-results.js";
import type { RuntimeSandbox } from "./types.js";

export interface ExecOptions {
  code: string;
  language: Language;
  timeoutMs: number;
  killGraceMs: number;
  env?: Record<string, string>;
  cwd?: string;
  /** The REPL context (runtime/contexts.ts); undefined: the default one. */
  context?: string;
  /** Aborted when the client went away: treated like a timeout, without the message. */
  signal?: AbortSignal;
  memoryMb: number;
  /**
   * The consumer's backpressure: while full() the guest connection is not read (the guest's
   * writer blocks, as on a full pipe) until drained() resolves.
   */
  flow?: ExecFlow;
  /**
   * Aborted when the sandbox reaches max_lifetime_s: interrupted like a timeout, and the exit is
   * ExitCode.Expired with the reason (`expiry.reason`, a sentence) on stderr.
   */
  expiry?: AbortSignal;
}

export interface ExecFlow {
  full(): boolean;
  drained(): Promise<void>;
}

// Output is handed on in slices of this size, so that one large frame of short lines cannot
// put megabytes of events into the consumer before it is seen to be full.
const SLICE_BYTES = 16 * 1024;

// Output an interrupted exec may still send while paced, before it counts as ignoring the
// interrupt: what its pipe and the socket between guest and hostd hold (about 2 MiB), twice.
const DRAIN_ALLOWANCE_BYTES = 4 * 1024 * 1024;

export type ExecOutput = (stream: "stdout" | "stderr", line: string) => void;
/** Rich results and exception data of a python exec (docs/api.md, "Rich results"). */
export type ExecRichOutput = (event: ExecResultEvent | ExecErrorEvent) => void;

export async function runExec(sb: RuntimeSandbox, opts: ExecOptions, output: ExecOutput, rich?: ExecRichOutput): Promise<number> {
  const conn = await sb.control();
  const oomBefore = sb.oomKills();
  // Each line is an event hostd encodes: paced like FRAME_COST_BYTES more output.
  const stdout = new LineSplitter((l) => {
    conn.charge(FRAME_COST_BYTES);
    output("stdout", l);
  });
  const stderr = new LineSplitter((l) => {
    conn.charge(FRAME_COST_BYTES);
    output("stderr", l);
  });
  const results = new RichResults((note) => stderr.push(Buffer.from(note)));
  // A rich event comes after the output lines before it: held partial lines go out first.
  const emitRich = (event: ExecResultEvent | ExecErrorEvent | undefined) => {
    if (!event || !rich) return;
    stdout.flush();
    stderr.flush();
    rich(event);
  };

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
      steps.length = 0;
      if (blocked) {
        blocked = false;
        conn.resume();
      }
      stdout.end();
      if (note) stderr.push(Buffer.from(note));
      stderr.end();
      resolve(code);
    };

    let outBytes = 0;
    let outAtInterrupt = 0;
    const interrupt = () => {
      if (settled || conn.closed || killTimer) return;
      outAtInterrupt = outBytes;
      try {
        conn.send({ t: "interrupt", id });
      } catch {
        /* connection already gone: the close handler finishes the call */
      }
      let held = false;
      const kill = () => {
        // A guest blocked on a client that does not read has not ignored the interrupt: its
        // exit waits behind the output. Wait for the client instead (its socket times out).
        // Nor has a paused one, which cannot run at all: it gets the interrupt once resumed,
        // and a whole grace from then (a pause used to cost the REPL its state).
        // Nor has one whose output waits on its key's pace while it drains what it wrote before
        // the interrupt (the pipe and socket hold a few MiB): one that goes on writing past
        // that has ignored it (outside tester tq: the pace alone cost REPLs their state).
        if (blocked || sb.paused || (conn.pacing && outBytes - outAtInterrupt < DRAIN_ALLOWANCE_BYTES)) {
          held = true;
          killTimer = setTimeout(kill, opts.killGraceMs);
          return;
        }
        if (held) {
          held = false;
          killTimer = setTimeout(kill, opts.killGraceMs);
          return;
        }
        killed = true;
        sb.killKernel();
      };
      killTimer = setTimeout(kill, opts.killGraceMs);
    };

    // Frames wait here, in order, while the consumer is full; the connection is paused then, so
    // this holds at most what had arrived when it filled (frames are at most FRAME_MAX_BYTES).
    const steps: (() => void)[] = [];
    let blocked = false;
    const pump = () => {
      while (!blocked && steps.length) {
        steps.shift()!();
        if (!settled && opts.flow?.full()) {
          blocked = true;
          conn.pause();
          void opts.flow.drained().then(() => {
            blocked = false;
            pump();
          });
        }
      }
      if (!blocked) conn.resume();
    };

    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      if (h.t === "out") {
        const splitter = h.fd === 2 ? stderr : stdout;
        const body = frame.body;
        outBytes += body.length;
        for (let off = 0; off < body.length; off += SLICE_BYTES) {
          const slice = body.subarray(off, off + SLICE_BYTES);
          steps.push(() => splitter.push(slice));
        }
      } else if (h.t === "result") {
        // Not asked for (the exec's `results` was off): not even checked, so no note of a
        // dropped result reaches a client that never wanted results.
        const body = frame.body;
        if (rich) steps.push(() => emitRich(results.result(h.main, body)));
      } else if (h.t === "exc") {
        if (rich) steps.push(() => emitRich(results.error(h)));
      } else if (h.t === "exit") steps.push(() => onExit(h.code));
      pump();
    });

    function onExit(code: number): void {
        if (expired) finish(ExitCode.Expired, expiryNote());
        else if (timedOut) {
          finish(
            ExitCode.Timeout,
            `\nTimeoutError: execution exceeded timeout_ms=${opts.timeoutMs} and was interrupted; ` +
              `the REPL kept its state. Raise timeout_ms or split the work.\n`,
          );
        } else finish(code);
    }

    stopWatchingClose = conn.onClose((err) => {
      if (settled) return;
      const oom = sb.oomKills() > oomBefore;
      let note: string;
      if (expired) {
        finish(ExitCode.Expired, expiryNote());
        return;
      }
      if (sb.closed) {
        note = `\nSandboxClosed: the sandbox was closed while this code ran; create a new sandbox to go on.\n`;
      } else if (err instanceof GuestProtocolError) {
        note = `\nRuntimeError: ${err.message}. The sandbox's code may have written on the guest's socket; the next exec reconnects.\n`;
      } else if (oom) {
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
      // timeout_ms: the guest enforces it itself once this connection is gone (hostd restarted).
      // results: false tells the guest not to render or send what nobody reads (a kernel from
      // before the field sends them anyway, and they are dropped here).
      conn.send({ t: "exec", id, lang: opts.language, code: opts.code, env: opts.env, cwd: opts.cwd, ctx: opts.context, timeout_ms: opts.timeoutMs, ...(rich ? {} : { results: false }) });
    } catch {
      // The close listener above settles the call.
    }
    if (opts.signal?.aborted) interrupt();
    if (opts.expiry?.aborted) onExpiry();
  });
}
