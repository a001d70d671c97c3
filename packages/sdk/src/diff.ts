// diff(): compares two sandboxes' files client-side. The same Python snippet runs in both
// (in a fresh globals dict, so the user's REPL namespace is untouched) and prints
// {path: [size, mtime_ns, sha256 | null]} as JSON; sha256 is null for files over 1 MB,
// which are then compared by size and mtime. The Python SDK carries the identical text
// (podflare/diff.py); tests/conformance/sdk-copies.test.ts checks they are equal.

import { SandboxRuntimeError } from "./errors.js";
import type { ExecResult } from "./events.js";
import type { DiffResult } from "./types.js";

export const DIFF_SNIPPET = `import hashlib, json, os, stat

LIMIT = 1048576
# Kernel views, not files: endless to read (/proc/*/pagemap) and never the sandbox's work.
SKIP = ("/proc", "/sys", "/dev")


def _skipped(path):
    return any(path == s or path.startswith(s + "/") for s in SKIP)


def _entry(path, st):
    if stat.S_ISDIR(st.st_mode):
        return [0, "0", "dir"]
    if stat.S_ISLNK(st.st_mode):
        target = os.fsencode(os.readlink(path))
        return [len(target), str(st.st_mtime_ns), "link:" + hashlib.sha256(target).hexdigest()]
    if stat.S_ISREG(st.st_mode) and st.st_size <= LIMIT:
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                read = 0
                for block in iter(lambda: f.read(65536), b""):
                    digest.update(block)
                    read += len(block)
                    if read > LIMIT:  # more than it said it holds: compared by size and mtime
                        return [st.st_size, str(st.st_mtime_ns), None]
        except OSError:
            return [st.st_size, str(st.st_mtime_ns), None]
        return [st.st_size, str(st.st_mtime_ns), digest.hexdigest()]
    return [st.st_size, str(st.st_mtime_ns), None]


def _walk(roots):
    out = {}
    for root in roots:
        if _skipped(os.path.abspath(root)):
            continue
        try:
            st = os.lstat(root)
        except OSError:
            continue
        out[root] = _entry(root, st)
        if not stat.S_ISDIR(st.st_mode):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not _skipped(os.path.join(dirpath, d))]
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                try:
                    out[path] = _entry(path, os.lstat(path))
                except OSError:
                    pass
    return out


print(json.dumps(_walk(PATHS), sort_keys=True, separators=(",", ":")))
`;

/** One path's signature: size, mtime in ns (as a string: exact), content hash or null. */
export type SnapshotEntry = [size: number, mtimeNs: string, sha256: string | null];
export type Snapshot = Record<string, SnapshotEntry>;

/** The exec code that prints the snapshot of `paths`. */
export function diffCode(paths: readonly string[]): string {
  return `exec(${JSON.stringify(DIFF_SNIPPET)}, {"__name__": "__podflare_diff__", "PATHS": ${JSON.stringify(paths)}})`;
}

function differs(a: SnapshotEntry, b: SnapshotEntry): boolean {
  if (a[0] !== b[0]) return true;
  if (a[2] !== null && b[2] !== null) return a[2] !== b[2];
  return a[1] !== b[1];
}

/** What changed going from snapshot `a` to snapshot `b`. */
export function compareSnapshots(a: Snapshot, b: Snapshot): DiffResult {
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  for (const path of Object.keys(b)) if (!(path in a)) added.push(path);
  for (const [path, entry] of Object.entries(a)) {
    const other = b[path];
    if (other === undefined) removed.push(path);
    else if (differs(entry, other)) modified.push(path);
  }
  return { added: added.sort(), removed: removed.sort(), modified: modified.sort() };
}

/** Runs the helper (`code`, from diffCode) through a sandbox's runCode and parses its snapshot. */
export async function takeSnapshot(run: (code: string) => Promise<ExecResult>, sandboxId: string, code: string): Promise<Snapshot> {
  const r = await run(code);
  const line = r.stdout.trimEnd().split("\n").pop() ?? "";
  if (r.exitCode === 0) {
    try {
      return JSON.parse(line) as Snapshot;
    } catch {
      // fall through to the error below
    }
  }
  throw new SandboxRuntimeError(`diff helper failed in ${sandboxId} (exit ${r.exitCode}): ${(r.stderr || line).slice(-500)}`);
}

/** What diff needs of a sandbox. */
export interface DiffSide {
  readonly id: string;
  runCode(code: string, language: "python"): Promise<ExecResult>;
}

/** Snapshots both sandboxes at once and compares them: `added` exist only in `b`. */
export async function diffSandboxes(a: DiffSide, b: DiffSide, paths: readonly string[]): Promise<DiffResult> {
  const code = diffCode(paths);
  const snap = (side: DiffSide) => takeSnapshot((c) => side.runCode(c, "python"), side.id, code);
  const [mine, theirs] = await Promise.all([snap(a), snap(b)]);
  return compareSnapshots(mine, theirs);
}
