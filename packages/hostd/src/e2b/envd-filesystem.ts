// envd's filesystem.Filesystem service mapped onto our filesystem API (docs/api.md,
// "Filesystem"): one REST call per unary method, WatchDir relayed from GET /fs/watch.
import type { FsEntry } from "@podflare/protocol";
import { ConnectError, type ConnectStream } from "./connect-rpc.js";
import { ndjson, rest, restStream, sandboxPath, stringField, type RpcCall, type RpcMethod } from "./envd-rpc.js";
import { e2bPath } from "./home.js";

const FILE_TYPE: Record<FsEntry["type"], string> = {
  file: "FILE_TYPE_FILE",
  dir: "FILE_TYPE_DIRECTORY",
  symlink: "FILE_TYPE_SYMLINK",
  other: "FILE_TYPE_UNSPECIFIED",
};

const EVENT_TYPE: Record<string, string> = {
  create: "EVENT_TYPE_CREATE",
  write: "EVENT_TYPE_WRITE",
  remove: "EVENT_TYPE_REMOVE",
  rename: "EVENT_TYPE_RENAME",
  chmod: "EVENT_TYPE_CHMOD",
};

const q = encodeURIComponent;

export function filesystemMethods(): Record<string, RpcMethod> {
  return {
    Stat: {
      kind: "unary",
      handle: async (call) => ({ entry: entryInfo((await rest(call, "GET", fsPath(call, `/stat?path=${q(pathOf(call))}`))) as FsEntry) }),
    },
    ListDir: {
      kind: "unary",
      handle: async (call) => {
        // proto3 JSON omits a zero depth; envd takes it as 1.
        const depth = call.message.depth === undefined || call.message.depth === 0 ? 1 : call.message.depth;
        const body = (await rest(call, "GET", fsPath(call, `/list?path=${q(pathOf(call))}&depth=${q(String(depth))}`)).catch(notADirectory)) as { entries: FsEntry[] };
        return { entries: body.entries.map(entryInfo) };
      },
    },
    MakeDir: {
      kind: "unary",
      handle: async (call) => {
        const path = pathOf(call);
        try {
          return { entry: entryInfo((await rest(call, "POST", fsPath(call, "/mkdir"), { path, parents: true })) as FsEntry) };
        } catch (err) {
          // envd: an existing directory is already_exists (the SDK's false), anything else there is an error.
          if (err instanceof ConnectError && err.code === "already_exists") {
            const there = (await rest(call, "GET", fsPath(call, `/stat?path=${q(path)}`))) as FsEntry;
            if (there.type !== "dir") throw new ConnectError("invalid_argument", `path already exists but it is not a directory: ${path}`);
          }
          throw err;
        }
      },
    },
    Move: {
      kind: "unary",
      handle: async (call) => {
        const body = {
          path: e2bPath(stringField(call.message, "source", "the path to move")),
          to: e2bPath(stringField(call.message, "destination", "where to move it")),
        };
        return { entry: entryInfo((await rest(call, "POST", fsPath(call, "/move"), body)) as FsEntry) };
      },
    },
    Remove: {
      kind: "unary",
      handle: async (call) => {
        // envd removes with os.RemoveAll: a path that is not there is removed already.
        await rest(call, "POST", fsPath(call, "/remove"), { path: pathOf(call), recursive: true }).catch((err: unknown) => {
          if (!(err instanceof ConnectError && err.code === "not_found")) throw err;
        });
        return {};
      },
    },
    WatchDir: { kind: "stream", keepalive: { keepalive: {} }, handle: watchDir },
  };
}

async function watchDir(call: RpcCall, out: ConnectStream): Promise<void> {
  const recursive = call.message.recursive === true;
  const up = await restStream(call, fsPath(call, `/watch?path=${q(pathOf(call))}&recursive=${recursive}`)).catch(notADirectory);
  for await (const e of ndjson(up)) {
    if (e.type === "watching") await out.send({ start: {} });
    else if (typeof e.type === "string" && EVENT_TYPE[e.type] && typeof e.name === "string" && !UPLOAD_TEMP.test(e.name)) {
      // The kernel's end of the move; a guest kernel from before `moved` leaves only a look.
      const movedIn = e.type === "rename" && (e.moved === undefined ? await exists(call, e.path) : e.moved === "to");
      await out.send(watchEvent(e.name, movedIn ? "create" : e.type));
    }
    // "overflow" has no envd counterpart: events were lost, and the watch goes on.
  }
  throw new ConnectError("unavailable", "the watch ended (the sandbox closed, or the directory went away)");
}

/** envd's WatchDirResponse for one event of ours (create, write, remove, rename, chmod). */
export function watchEvent(name: string, type: string): Record<string, unknown> {
  return { filesystem: { name, type: EVENT_TYPE[type] ?? "EVENT_TYPE_UNSPECIFIED" } };
}

/**
 * Our files API writes an upload beside its target and renames it into place; the temporary
 * file is ours, not the user's, so its events are not passed on.
 */
export const UPLOAD_TEMP = /(^|\/)\.pf-upload-[0-9a-f]+\.tmp$/;

/**
 * Our watch says "rename" for both ends of a move (with `moved`: "from" or "to"); envd
 * (fsnotify) says CREATE for a name moved in and RENAME for one moved away. Without `moved` (a
 * sandbox started by an older hostd), the name still there is taken as the one moved in.
 */
async function exists(call: RpcCall, path: unknown): Promise<boolean> {
  if (typeof path !== "string") return false;
  const answer = await call.api.json("GET", fsPath(call, `/stat?path=${q(path)}`), { key: call.ctx.key, signal: call.signal });
  return answer.status === 200;
}

/** Our entry as envd's EntryInfo (int64 size as a string, mtime as an RFC 3339 Timestamp). */
export function entryInfo(e: FsEntry): Record<string, unknown> {
  const info: Record<string, unknown> = {
    name: e.name,
    type: FILE_TYPE[e.type] ?? "FILE_TYPE_UNSPECIFIED",
    path: e.path,
    size: String(e.size),
    mode: e.mode,
    permissions: e.permissions,
    owner: e.owner,
    group: e.group,
    modifiedTime: new Date(e.mtime_ms).toISOString(),
  };
  if (e.symlink_target) info.symlinkTarget = e.symlink_target;
  return info;
}

function pathOf(call: RpcCall): string {
  return e2bPath(stringField(call.message, "path", "an absolute path in the sandbox"));
}

function fsPath(call: RpcCall, tail: string): string {
  return sandboxPath(call.ctx, `/fs${tail}`);
}

/** envd answers a listing or watch of something that is not a directory with invalid_argument. */
function notADirectory(err: unknown): never {
  if (err instanceof ConnectError && err.code === "failed_precondition") throw new ConnectError("invalid_argument", err.message);
  throw err;
}
