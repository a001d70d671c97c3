// envd's Connect-RPC services (process.Process, filesystem.Filesystem) on hostd: the method
// table and the dispatch, every failure answered in Connect's error shape; keepalive messages
// on long streams when the SDK asks for them.
import type http from "node:http";
import { PodflareError } from "@podflare/protocol";
import {
  ConnectError, connectErrorFromRest, ConnectStream, isStreamingRequest, readConnectRequest, sendConnectError, sendUnary,
} from "./connect-rpc.js";
import type { SandboxCall } from "./envd.js";
import { filesystemMethods } from "./envd-filesystem.js";
import { processMethods } from "./envd-process.js";
import { rest, sandboxPath, type RpcCall, type RpcMethod } from "./envd-rpc.js";
import type { LocalApi } from "../api/local-api.js";

/** Methods the real envd has that hostd does not serve; they answer `unimplemented`. */
const UNSERVED: Record<string, string> = {
  "process.Process/StreamInput": "client streaming is not served; send input with SendInput (sandbox.commands.sendStdin)",
  "filesystem.Filesystem/CreateWatcher": "polling watchers are not served; use WatchDir (sandbox.files.watchDir)",
  "filesystem.Filesystem/GetWatcherEvents": "polling watchers are not served; use WatchDir (sandbox.files.watchDir)",
  "filesystem.Filesystem/RemoveWatcher": "polling watchers are not served; use WatchDir (sandbox.files.watchDir)",
};

export function rpcMethods(): Map<string, RpcMethod> {
  const table = new Map<string, RpcMethod>();
  for (const [name, m] of Object.entries(processMethods())) table.set(`process.Process/${name}`, m);
  for (const [name, m] of Object.entries(filesystemMethods())) table.set(`filesystem.Filesystem/${name}`, m);
  return table;
}

/** Serves one Connect-RPC call; every failure is answered in Connect's error shape. */
export async function serveRpc(methods: Map<string, RpcMethod>, api: LocalApi, ctx: SandboxCall, name: string, log: (msg: string) => void, authenticated?: (owner: string) => Promise<void>): Promise<void> {
  const method = methods.get(name);
  let out: ConnectStream | undefined;
  const abort = new AbortController();
  ctx.res.once("close", () => {
    if (!ctx.res.writableFinished) abort.abort(); // the client hung up
  });
  let keepalive: NodeJS.Timeout | undefined;
  try {
    // Before the body is read: a caller with no valid key makes hostd read nothing; one past
    // its key's request rate waits here, its connection unread (api/request-pacer.ts).
    await authenticated?.(authenticate(api, ctx.key));
    if (!method) {
      ctx.req.resume();
      // An unknown caller learns nothing, not even "unimplemented"; nor does one without the sandbox.
      await rest({ ctx, api, message: {}, signal: abort.signal }, "GET", sandboxPath(ctx, ""));
      throw new ConnectError("unimplemented", `${name} is not served by Podflare self-hosted: ${UNSERVED[name] ?? "no such method"}; see docs/e2b.md`);
    }
    if ((method.kind === "stream") !== isStreamingRequest(ctx.req)) {
      ctx.req.resume();
      throw new ConnectError("invalid_argument", `${name} is ${method.kind === "stream" ? "a server-streaming call: send application/connect+json" : "a unary call: send application/json"}`);
    }
    const message = await readConnectRequest(ctx.req);
    const call: RpcCall = { ctx, api, message, signal: abort.signal };
    if (method.kind === "unary") {
      sendUnary(ctx.res, (await method.handle(call)) ?? {});
      return;
    }
    const stream = new ConnectStream(ctx.res);
    out = stream;
    const everyMs = keepaliveMs(ctx.req);
    if (everyMs) keepalive = setInterval(() => void stream.send(method.keepalive), everyMs);
    await method.handle(call, stream);
    stream.end();
  } catch (err) {
    if (abort.signal.aborted) return; // the client hung up; nobody to answer
    const e = err instanceof ConnectError ? err : new ConnectError("internal", `internal error: ${(err as Error)?.message ?? String(err)}`);
    if (e.code === "internal") log(`e2b: ${name}: internal error: ${(err as Error)?.stack ?? String(err)}`);
    sendConnectError(ctx.req, ctx.res, e, out);
  } finally {
    clearInterval(keepalive);
  }
}

/** The SDK asks for keepalive messages (`Keepalive-Ping-Interval`, seconds) on long streams. */
function keepaliveMs(req: http.IncomingMessage): number | null {
  const raw = Number(req.headers["keepalive-ping-interval"]);
  if (!Number.isFinite(raw) || raw <= 0) return null;
  return Math.min(Math.max(raw, 1), 300) * 1000;
}

/** The key's owner, or the REST API's 401 as Connect's `unauthenticated`. */
function authenticate(api: LocalApi, key: string | undefined): string {
  try {
    return api.authenticate(key);
  } catch (err) {
    if (err instanceof PodflareError) throw connectErrorFromRest(err.status, err.toBody());
    throw err;
  }
}
