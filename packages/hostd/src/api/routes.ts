// The route table of the REST API. Handlers get the parsed URL, the owner and the path params.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PodflareError, limits, sandboxIdPattern, type ExecEvent } from "@podflare/protocol";
import type { Principal } from "../auth/authenticator.js";
import type { KeyStore } from "../auth/keys.js";
import { tiers } from "../auth/tiers.js";
import type { LastKeyGuard } from "../auth/last-key.js";
import type { HostdConfig } from "../config.js";
import { keyRoutes } from "./key-routes.js";
import { lifecycleRoutes } from "./lifecycle-routes.js";
import { networkRoutes } from "./network-routes.js";
import { processRoutes } from "./process-routes.js";
import { fsRoutes } from "./fs-routes.js";
import type { PortProxy } from "./port-proxy.js";
import type { SpaceService } from "../lifecycle/spaces.js";
import type { WarmPool } from "../lifecycle/warm-pool.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { checkRegion } from "./region.js";
import { parseCreate, parseExec, parseFilePath, parseFork } from "./validate.js";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  owner: string;
  principal: Principal;
  params: string[];
}

export interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle(ctx: RouteContext): Promise<void> | void;
}

function sandboxId(ctx: RouteContext): string {
  const id = ctx.params[0]!;
  if (!sandboxIdPattern.test(id)) {
    throw new PodflareError("sandbox_not_found", `sandbox ${id} not found; ids look like sbx_ followed by 32 hex digits`);
  }
  return id;
}

export function buildRoutes(cfg: HostdConfig, sandboxes: SandboxManager, keys: KeyStore, keyGuard: LastKeyGuard, spaces: SpaceService, pool: WarmPool, proxy?: PortProxy): Route[] {
  const SB = "/v1/sandboxes/([^/]+)";
  const route = (method: string, path: string, handle: Route["handle"], auth = true): Route => ({
    method,
    pattern: new RegExp(`^${path}$`),
    auth,
    handle,
  });

  return [
    route("GET", "/v1/healthz", ({ res }) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    }, false),

    route("GET", "/v1/capacity", ({ res, owner, principal }) => {
      // A tenant sees its own numbers; the host's load and pool hits are an operator's business.
      if (!principal.admin) {
        const max = tiers[principal.tier].concurrentSandboxes;
        sendJson(res, 200, { scope: "owner", tier: principal.tier, sandboxes: sandboxes.countOf(owner), max_sandboxes: max });
        return;
      }
      sendJson(res, 200, {
        scope: "host",
        sandboxes: sandboxes.count,
        max_sandboxes: cfg.maxSandboxes,
        pool: pool.stats(),
      });
    }),

    route("POST", "/v1/sandboxes", async (ctx) => {
      const raw = await readJsonBody(ctx.req, limits.maxJsonBytes);
      checkRegion(ctx.req, raw, cfg.region);
      const body = parseCreate(raw);
      sendJson(ctx.res, 200, await sandboxes.create(ctx.owner, body, ctx.principal.tier));
    }),

    route("GET", "/v1/usage", (ctx) => {
      sendJson(ctx.res, 200, sandboxes.usageOf(ctx.owner));
    }),

    ...keyRoutes(keys, route, keyGuard),
    ...lifecycleRoutes(sandboxes, spaces, route, sandboxId, cfg.region),
    ...networkRoutes(sandboxes, route, sandboxId),
    ...processRoutes(cfg, sandboxes, route, sandboxId),
    ...fsRoutes(cfg, sandboxes, route, sandboxId),

    route("GET", "/v1/sandboxes", (ctx) => {
      sendJson(ctx.res, 200, { sandboxes: sandboxes.list(ctx.owner) });
    }),

    route("GET", SB, async (ctx) => {
      sendJson(ctx.res, 200, await sandboxes.checkedInfo(ctx.owner, sandboxId(ctx)));
    }),

    route("DELETE", SB, async (ctx) => {
      await sandboxes.delete(ctx.owner, sandboxId(ctx));
      sendNoContent(ctx.res);
    }),

    route("POST", `${SB}/exec`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const body = parseExec(await readJsonBody(ctx.req, limits.maxJsonBytes), cfg.exec);
      await streamExec(ctx, id, body, sandboxes);
    }),

    route("POST", `${SB}/fork`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const n = parseFork(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, await sandboxes.fork(ctx.owner, id, n, ctx.principal.tier));
    }),

    route("POST", `${SB}/merge_into/([^/]+)`, async (ctx) => {
      const parent = sandboxId(ctx);
      const winner = ctx.params[1]!;
      if (!sandboxIdPattern.test(winner)) {
        throw new PodflareError("sandbox_not_found", `sandbox ${winner} not found; ids look like sbx_ followed by 32 hex digits`);
      }
      await sandboxes.mergeInto(ctx.owner, parent, winner);
      sendNoContent(ctx.res);
    }),

    route("PUT", `${SB}/files`, async (ctx) => {
      const id = sandboxId(ctx);
      const path = parseFilePath(ctx.url);
      const declared = Number(ctx.req.headers["content-length"] ?? 0);
      if (declared > limits.maxUploadBytes) {
        throw new PodflareError("payload_too_large", `upload exceeds ${limits.maxUploadBytes} bytes; split it into smaller files`);
      }
      await sandboxes.upload(ctx.owner, id, path, ctx.req, limits.maxUploadBytes);
      sendNoContent(ctx.res);
    }),

    route("GET", `${SB}/files`, async (ctx) => {
      const id = sandboxId(ctx);
      const path = parseFilePath(ctx.url);
      const result = await sandboxes.read(ctx.owner, id, path);
      if (result.kind === "dir") {
        sendJson(ctx.res, 200, { path, entries: result.entries });
        return;
      }
      // Node checks the body against the content length too (a second guard against a guest
      // that sends more than it declared: runtime/files.ts).
      ctx.res.strictContentLength = true;
      ctx.res.writeHead(200, { "content-type": "application/octet-stream", "content-length": result.size });
      await result.pipe(ctx.res);
      ctx.res.end();
    }),

    route("DELETE", `${SB}/files`, async (ctx) => {
      await sandboxes.remove(ctx.owner, sandboxId(ctx), parseFilePath(ctx.url));
      sendNoContent(ctx.res);
    }),

    route("POST", `${SB}/kill_processes`, async (ctx) => {
      sendJson(ctx.res, 200, await sandboxes.killProcesses(ctx.owner, sandboxId(ctx)));
    }),

    route("POST", `${SB}/restart_repl`, async (ctx) => {
      await sandboxes.restartRepl(ctx.owner, sandboxId(ctx));
      sendNoContent(ctx.res);
    }),

    ...(proxy ? proxy.routes(route) : []),
  ];
}

/** Streams an exec as NDJSON, one event per line, written as produced. */
async function streamExec(
  ctx: RouteContext,
  id: string,
  body: ReturnType<typeof parseExec>,
  sandboxes: SandboxManager,
): Promise<void> {
  const { res } = ctx;
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  let seq = 0;
  let headerSent = false;
  const write = (event: ExecEvent) => {
    if (!headerSent) {
      res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
      headerSent = true;
    }
    // A client that went away gets nothing more; the exec is being interrupted.
    if (!res.destroyed) res.write(JSON.stringify(event) + "\n");
  };
  // Output moves only as fast as the client reads it (docs/api.md, "Backpressure").
  const flow = {
    full: () => res.writableNeedDrain && !res.destroyed,
    drained: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      }),
  };
  const code = await sandboxes.exec(
    ctx.owner,
    id,
    body,
    (stream, line) => write({ type: stream, data: line, seq: seq++, ts: Date.now() }),
    abort.signal,
    flow,
  );
  write({ type: "exit", data: code, seq: seq++, ts: Date.now() });
  res.end();
}
