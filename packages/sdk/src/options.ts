// The option names each call takes. A misspelled option throws a TypeError naming it, as the
// Python SDK's keyword arguments do, instead of running the call with the default: a typo in
// `memoryMb` or `timeoutMs` is never silently dropped (docs/sdk.md).
import type { ClientOption } from "./client.js";
import type { PtyCreateOptions } from "./pty-handle.js";
import type { PtyOptions } from "./pty.js";
import type { StartOptions } from "./processes.js";
import type { ConnectionOptions, RunOptions, SandboxOptions } from "./types.js";

type Names<T> = Record<keyof T, true>;

// Each list must name every field of its type (the `satisfies` checks it), so a new option is
// never refused as unknown.
export const CONNECTION_OPTIONS = { host: true, region: true, apiKey: true, timeoutMs: true, traceparent: true, client: true } as const satisfies Names<Required<ConnectionOptions & ClientOption>>;
export const SANDBOX_OPTIONS = {
  ...CONNECTION_OPTIONS, template: true, persistent: true, egress: true, memoryMb: true, diskMb: true, vcpus: true,
  idleTimeoutS: true, maxLifetimeS: true, env: true, metadata: true, network: true,
} as const satisfies Names<Required<SandboxOptions & ClientOption>>;
export const RUN_OPTIONS = { timeoutMs: true, env: true, cwd: true, context: true, onResult: true, onError: true } as const satisfies Names<Required<RunOptions>>;
export const START_OPTIONS = { args: true, env: true, cwd: true, tag: true, stdin: true, pty: true } as const satisfies Names<Required<StartOptions>>;
export const PTY_OPTIONS = { rows: true, cols: true, cmd: true, cwd: true, pid: true } as const satisfies Names<Required<PtyOptions>>;
export const PTY_CREATE_OPTIONS = { cmd: true, cols: true, rows: true, cwd: true, env: true, onData: true, timeoutMs: true } as const satisfies Names<Required<PtyCreateOptions>>;

/** Throws a TypeError for an option `call` does not take, with the closest name it does. */
export function checkOptions(opts: unknown, known: Record<string, true>, call: string): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== "object" || Array.isArray(opts)) throw new TypeError(`${call}: options must be an object`);
  for (const name of Object.keys(opts)) {
    if (Object.hasOwn(known, name)) continue;
    const near = closest(name, Object.keys(known));
    throw new TypeError(`${call}: unknown option ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ""}; it takes ${Object.keys(known).join(", ")}`);
  }
}

/** The known name nearest to a misspelling (at most two edits, or the same letters in another case). */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
