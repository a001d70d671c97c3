// REST shapes of the filesystem API (docs/api.md, "Filesystem").

export interface FsEntry {
  name: string;
  path: string;
  /** A symlink is reported as itself, with `symlink_target`. */
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  /** As `ls -l` shows it, e.g. "-rw-r--r--". */
  permissions: string;
  owner: string;
  group: string;
  mtime_ms: number;
  symlink_target: string | null;
}

/** One line of GET /v1/sandboxes/:id/fs/watch (application/x-ndjson). */
export interface FsWatchEvent {
  /** `watching` comes first, once the watch is in place; `overflow`: events were lost. */
  type: "watching" | "create" | "write" | "remove" | "rename" | "chmod" | "overflow";
  /** Absolute path inside the sandbox, and the same relative to the watched directory. */
  path: string;
  name: string;
  seq: number;
  ts: number;
}

export const fsLimits = {
  /** Entries one listing returns at most (depth included). */
  maxListEntries: 10_000,
  maxListDepth: 16,
  /** Open watch streams per sandbox. */
  maxWatches: 16,
} as const;
