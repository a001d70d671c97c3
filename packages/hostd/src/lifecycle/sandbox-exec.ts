// Work run in a sandbox's queue: an exec (after those already waiting, interrupted at
// max_lifetime_s), REPL-context operations, and other jobs that need the sandbox to themselves.
import { PodflareError, limits, type ExecRequest } from "@podflare/protocol";
import { requireContext } from "../runtime/contexts.js";
import { runExec, type ExecFlow, type ExecOutput, type ExecRichOutput } from "../runtime/exec.js";
import type { RuntimeSandbox } from "../runtime/types.js";
import type { SandboxRecord } from "../store/store.js";
import { expiredError, type LiveSandbox } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";
import { notFound } from "./sandbox-info.js";

/** An exec request with the defaults filled in. */
export type QueuedExecRequest = Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest;

/** Execs waiting (not yet running) per sandbox, and the bytes of code and env they hold until their turn. */
const waiting = new WeakMap<LiveSandbox, { count: number; bytes: number }>();

/** What a queued exec holds: its code and its env's names and values. */
function heldBytes(req: QueuedExecRequest): number {
  let n = Buffer.byteLength(req.code);
  for (const [k, v] of Object.entries(req.env ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/**
 * Runs one exec after those already queued on the sandbox; resolves with the exit code. At most
 * limits.maxQueuedExecs wait, holding at most limits.maxQueuedExecBytes: one more is refused at
 * once (checked and counted in one step).
 */
export function execQueued(p: ManagerParts, owner: string, id: string, sb: LiveSandbox, req: QueuedExecRequest,
                           output: ExecOutput, signal?: AbortSignal, flow?: ExecFlow, rich?: ExecRichOutput): Promise<number> {
  const queued = waiting.get(sb) ?? { count: 0, bytes: 0 };
  const bytes = heldBytes(req);
  const full =
    queued.count >= limits.maxQueuedExecs ? `${queued.count} execs already wait in sandbox ${id} (at most ${limits.maxQueuedExecs}, one runs at a time)`
    : queued.count > 0 && queued.bytes + bytes > limits.maxQueuedExecBytes
      ? `the ${queued.count} execs waiting in sandbox ${id} hold ${queued.bytes} bytes of code and env, and this one ${bytes} more (at most ${limits.maxQueuedExecBytes} together, one runs at a time)`
      : undefined;
  if (full) {
    return Promise.reject(new PodflareError(
      "exec_queue_full",
      `${full}; wait for them to finish before sending more, or fork the sandbox to run in parallel`,
      { "Retry-After": "1" },
    ));
  }
  waiting.set(sb, { count: queued.count + 1, bytes: queued.bytes + bytes });
  // Counted while it waits: one whose client went away meanwhile stops counting at once, not
  // when its turn comes (outside tester ts: 128 abandoned calls kept the queue full).
  let counted = true;
  const uncount = () => {
    if (!counted) return;
    counted = false;
    const now = waiting.get(sb) ?? { count: 1, bytes };
    waiting.set(sb, { count: now.count - 1, bytes: now.bytes - bytes });
  };
  signal?.addEventListener("abort", uncount, { once: true });
  return p.live.enqueue(sb, async () => {
    signal?.removeEventListener("abort", uncount);
    uncount();
    if (signal?.aborted) return -1;
    if (sb.expiry.signal.aborted) throw expiredError(sb.record);
    if (req.context_id !== undefined) await requireContext(sb.rt, id, req.context_id, p.cfg.guestReplyTimeoutMs);
    p.usage?.exec(owner);
    const opts = {
      code: req.code,
      language: req.language,
      timeoutMs: req.timeout_ms,
      killGraceMs: p.cfg.exec.killGraceMs,
      env: req.env,
      cwd: req.cwd,
      context: req.context_id,
      signal,
      memoryMb: sb.record.applied.memory_mb,
      flow,
      expiry: sb.expiry.signal,
    };
    return runExec(sb.rt, opts, output, rich);
  });
}

/**
 * Runs a REPL-context operation (runtime/contexts.ts) with the guest's reply timeout; one
 * that changes a context waits behind the sandbox's queued execs, as they would see it.
 */
export async function withContexts<T>(p: ManagerParts, sb: LiveSandbox, changes: boolean, op: (rt: RuntimeSandbox, timeoutMs: number) => Promise<T>): Promise<T> {
  if (!changes) {
    await p.live.wake(sb);
    return op(sb.rt, p.cfg.guestReplyTimeoutMs);
  }
  return p.live.enqueue(sb, () => op(sb.rt, p.cfg.guestReplyTimeoutMs));
}

/**
 * Runs `fn` in the sandbox's exec queue (after the execs already waiting), awake, as one of its
 * state changes (a freeze): a pause or restart waits for it rather than freezing it midway.
 */
/** `closing` (given to fn) is aborted when the sandbox is closed meanwhile. */
export function runQueued<T>(p: ManagerParts, id: string, sb: LiveSandbox, fn: (rt: RuntimeSandbox, record: SandboxRecord, closing: AbortSignal) => Promise<T>): Promise<T> {
  return p.live.enqueue(sb, () =>
    p.live.exclusive(sb, async () => {
      if (p.live.find(id) !== sb) throw notFound(id);
      return fn(sb.rt, sb.record, sb.closing.signal);
    }),
  );
}
