// The sandbox's filesystem (`sandbox.fs`): list, stat, mkdir, move, remove, watch. Paths are
// inside the sandbox, checked as the files API checks them. REST: docs/api.md, "Filesystem".
import { NdjsonDecoder } from "./events.js";
import { streamError, type HttpClient } from "./http.js";

const enc = encodeURIComponent;

export interface FsEntry {
  name: string;
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  permissions: string;
  owner: string;
  group: string;
  mtimeMs: number;
  symlinkTarget: string | null;
}

export interface WatchEvent {
  type: "watching" | "create" | "write" | "remove" | "rename" | "chmod" | "overflow";
  path: string;
  /** The path relative to the watched directory. */
  name: string;
}

interface WireEntry {
  name: string; path: string; type: FsEntry["type"]; size: number; mode: number; permissions: string;
  owner: string; group: string; mtime_ms: number; symlink_target: string | null;
}

const fromEntry = (w: WireEntry): FsEntry => ({
  name: w.name, path: w.path, type: w.type, size: w.size, mode: w.mode, permissions: w.permissions,
  owner: w.owner, group: w.group, mtimeMs: w.mtime_ms, symlinkTarget: w.symlink_target,
});

/** A running directory watch: iterate its events; `stop()` ends it. */
export interface Watch extends AsyncIterable<WatchEvent> {
  stop(): void;
}

export class Filesystem {
  constructor(private readonly http: HttpClient, private readonly sandboxId: string) {}

  private url(op: string, path?: string, extra = ""): string {
    const q = path === undefined ? "" : `?path=${enc(path)}${extra}`;
    return `/v1/sandboxes/${enc(this.sandboxId)}/fs/${op}${q}`;
  }

  /**
   * Lists a directory, sorted by name; `depth` > 1 goes into subdirectories.
   *
   * @example
   * for (const e of await sb.fs.list("/root")) console.log(e.type, e.name, e.size);
   */
  async list(path: string, opts: { depth?: number } = {}): Promise<FsEntry[]> {
    const res = await this.http.json<{ entries: WireEntry[] }>("GET", this.url("list", path, opts.depth ? `&depth=${opts.depth}` : ""));
    return (res?.entries ?? []).map(fromEntry);
  }

  async stat(path: string): Promise<FsEntry> {
    return fromEntry((await this.http.json<WireEntry>("GET", this.url("stat", path)))!);
  }

  /** Creates a directory (with its parents when `parents`); FileExistsError if it exists. */
  async mkdir(path: string, opts: { parents?: boolean } = {}): Promise<FsEntry> {
    return fromEntry((await this.http.json<WireEntry>("POST", this.url("mkdir"), { json: { path, parents: opts.parents === true } }))!);
  }

  /** Renames `path` to `to` (replacing a file there, as rename(2)). */
  async move(path: string, to: string): Promise<FsEntry> {
    return fromEntry((await this.http.json<WireEntry>("POST", this.url("move"), { json: { path, to } }))!);
  }

  /** Removes a file, an empty directory, or with `recursive` a whole tree. */
  async remove(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    await this.http.request("POST", this.url("remove"), { json: { path, recursive: opts.recursive === true } });
  }

  /**
   * Watches a directory; resolves once the watch is in place (changes after that are seen).
   *
   * @example
   * const w = await sb.fs.watch("/root/out", { recursive: true });
   * for await (const ev of w) { console.log(ev.type, ev.name); if (ev.name === "done") w.stop(); }
   */
  async watch(path: string, opts: { recursive?: boolean } = {}): Promise<Watch> {
    const what = `GET ${this.url("watch", path)}`;
    const res = await this.http.open("GET", this.url("watch", path, opts.recursive ? "&recursive=true" : ""), { accept: "application/x-ndjson", timeoutMs: 0 });
    const dec = new NdjsonDecoder();
    const queue: WatchEvent[] = [];
    let first: WatchEvent | undefined;
    const iter = res[Symbol.asyncIterator]();
    // The first event says the watch is in place.
    while (!first) {
      const { value, done } = await iter.next();
      if (done) break;
      queue.push(...(dec.push(value as Buffer) as WatchEvent[]));
      first = queue.shift();
    }
    let stopped = false;
    return {
      stop: () => {
        stopped = true;
        res.destroy();
      },
      async *[Symbol.asyncIterator]() {
        try {
          while (queue.length) yield queue.shift()!;
          for (;;) {
            const { value, done } = await iter.next();
            if (done) return;
            for (const ev of dec.push(value as Buffer) as WatchEvent[]) yield { type: ev.type, path: ev.path, name: ev.name };
          }
        } catch (err) {
          if (!stopped) throw streamError(err, what);
        } finally {
          res.destroy();
        }
      },
    };
  }
}
