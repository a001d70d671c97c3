// E2B's in-sandbox daemon (envd, port 49983) on hostd: /health, and /files mapped onto the REST
// files API with its path rules. Its Connect-RPC Process and Filesystem services are in
// envd-rpc-serve.ts.
import path from "node:path";
import { finished, pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import type { Readable } from "node:stream";
import { E2bError, expectOk, fromRest, sendE2bJson } from "./envelope.js";
import { e2bPath } from "./home.js";
import { MultipartReader, boundaryOf } from "./multipart.js";
import { e2bRoute, sendNoContent, type E2bContext, type E2bRoute } from "./request.js";
import { readJson, type LocalApi } from "../api/local-api.js";

export interface SandboxCall extends E2bContext {
  sandboxId: string;
}

type SandboxRoute = Omit<E2bRoute, "handle"> & { handle(ctx: SandboxCall): Promise<void> };
const route = e2bRoute as (method: string, path: string, handle: SandboxRoute["handle"]) => SandboxRoute;

/** Connect-RPC services envd has (POST /<service>/<Method>). */
export const CONNECT_RPC_PATH = /^\/(process\.Process|filesystem\.Filesystem)\/([A-Za-z]+)$/;

const files = (id: string, p: string) => `/v1/sandboxes/${encodeURIComponent(id)}/files?path=${encodeURIComponent(p)}`;

export function envdRoutes(api: LocalApi): SandboxRoute[] {
  return [
    route("GET", "/health", async (ctx) => {
      const answer = await api.json("GET", `/v1/sandboxes/${encodeURIComponent(ctx.sandboxId)}`, { key: ctx.key });
      // E2B's edge says 502 for a sandbox that is not running: the SDK's isRunning() reads it so.
      if (answer.status === 404) throw new E2bError(502, `sandbox ${ctx.sandboxId} is not running (closed, expired, or never existed)`);
      expectOk(answer);
      // Paused is not running for E2B's isRunning(); the health check must not wake it (a GET does not).
      if ((answer.body as { state?: string }).state === "paused") throw new E2bError(502, `sandbox ${ctx.sandboxId} is paused; Sandbox.connect resumes it`);
      sendNoContent(ctx.res);
    }),
    route("GET", "/files", (ctx) => download(ctx, api)),
    route("POST", "/files", (ctx) => upload(ctx, api)),
  ];
}

async function download(ctx: SandboxCall, api: LocalApi): Promise<void> {
  const p = filePath(ctx.url.searchParams.get("path"));
  const up = await api.request("GET", files(ctx.sandboxId, p), { key: ctx.key });
  const status = up.statusCode;
  if (status !== 200) throw fromRest(status, await readJson(up));
  if ((up.headers["content-type"] ?? "").startsWith("application/json")) {
    up.resume();
    throw new E2bError(400, `${p} is a directory; read a file, or list directories with GET /v1/sandboxes/<id>/files`);
  }
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (up.headers["content-length"] !== undefined) {
    headers["content-length"] = up.headers["content-length"];
    // The REST route's guard against a guest that sends more than it declared, kept here.
    ctx.res.strictContentLength = true;
  }
  ctx.res.writeHead(200, headers);
  await pipeline(up, ctx.res);
}

/** multipart/form-data (one part per file, the part's filename its path) or a raw body at ?path=. */
async function upload(ctx: SandboxCall, api: LocalApi): Promise<void> {
  const queryPath = ctx.url.searchParams.get("path");
  const written: { name: string; type: "file"; path: string }[] = [];
  const boundary = boundaryOf(ctx.req.headers["content-type"]);
  if (boundary) {
    const reader = new MultipartReader(ctx.req, boundary);
    for (let part = await reader.next(); part; part = await reader.next()) {
      if (part.name !== "file") {
        // Read and dropped; a form cut short inside it is the caller's 400, like a file part's.
        part.body.resume();
        await finished(part.body);
        continue;
      }
      written.push(await put(ctx, api, filePath(part.filename || queryPath), part.body));
    }
    if (written.length === 0) throw new E2bError(400, 'the form has no "file" part; send each file as a part named "file" whose filename is its path');
  } else {
    const encoding = ctx.req.headers["content-encoding"];
    if (encoding !== undefined && encoding !== "gzip" && encoding !== "identity") {
      throw new E2bError(400, `Content-Encoding ${encoding} is not supported; send the file as is or gzip`);
    }
    const body = encoding === "gzip" ? ctx.req.pipe(zlib.createGunzip()) : ctx.req;
    written.push(await put(ctx, api, filePath(queryPath), body));
  }
  sendE2bJson(ctx.res, 200, written);
}

async function put(ctx: SandboxCall, api: LocalApi, p: string, body: Readable): Promise<{ name: string; type: "file"; path: string }> {
  const up = await api.request("PUT", files(ctx.sandboxId, p), {
    key: ctx.key,
    stream: body,
    headers: { "content-type": "application/octet-stream" },
  });
  const answer = await readJson(up);
  if (up.statusCode !== 204 && up.statusCode !== 200) {
    body.destroy();
    throw fromRest(up.statusCode, answer);
  }
  // `p` is absolute already (filePath).
  return { name: path.posix.basename(p), type: "file", path: p };
}

function filePath(p: string | null | undefined): string {
  if (!p) throw new E2bError(400, "give the file's path: ?path=/absolute/path, or the form part's filename");
  return e2bPath(p);
}
