// The process-level safety net: one request's bug must not take down every sandbox's API.
//
// What is survived: an exception thrown from an event handler or a rejection nobody handled.
// hostd's state lives in objects owned by single requests (a transfer, a stream) or in the
// store, which only changes in synchronous steps, so such an error leaves at most that one
// request broken; it is logged with its stack and hostd keeps serving. What is not: a burst
// (more than maxPerMinute in a minute) says something shared is broken, so hostd exits non-zero
// and its supervisor restarts it; running sandboxes are re-adopted (docs/operations.md).

export interface SafetyNetOptions {
  log: (msg: string) => void;
  maxPerMinute?: number;
  exit?: (code: number) => void;
  now?: () => number;
}

/** The policy alone: log each error, exit on a burst. */
export function errorPolicy(opts: SafetyNetOptions): (kind: string, err: unknown) => void {
  const max = opts.maxPerMinute ?? 20;
  const now = opts.now ?? Date.now;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const recent: number[] = [];
  return (kind, err) => {
    const t = now();
    recent.push(t);
    while (recent.length && recent[0]! < t - 60_000) recent.shift();
    opts.log(`${kind} (kept serving; please report it): ${(err as Error)?.stack ?? String(err)}`);
    if (recent.length > max) {
      opts.log(`more than ${max} uncaught errors in a minute: exiting so that a supervisor restarts hostd`);
      exit(70);
    }
  };
}

export function installSafetyNet(opts: SafetyNetOptions): () => void {
  const policy = errorPolicy(opts);
  const onException = (err: unknown) => policy("uncaught exception", err);
  const onRejection = (err: unknown) => policy("unhandled rejection", err);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
