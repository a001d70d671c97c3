// Checking a call's options against the names it takes (each list sits beside its options type).
// A misspelled option throws a TypeError naming it, as the Python SDK's keyword arguments do,
// instead of running the call with the default: a typo in `memoryMb` or `timeoutMs` is never
// silently dropped (docs/sdk.md).
/** Every option name of T, for a `satisfies` beside T: a list that misses one does not compile. */
export type OptionNames<T> = Record<keyof Required<T>, true>;

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
