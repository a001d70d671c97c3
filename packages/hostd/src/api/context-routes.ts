// REPL contexts: POST/GET /v1/sandboxes/:id/contexts, POST …/contexts/:cid/restart,
// DELETE …/contexts/:cid (docs/api.md, "Contexts"). An exec picks one with `context_id`.
import { PodflareError, limits } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { checkContextId, createContext, deleteContext, listContexts, restartContext } from "../runtime/contexts.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import type { Route, RouteContext } from "./routes.js";

type RouteFn = (method: string, path: string, handle: Route["handle"]) => Route;

function parseCreateContext(body: Record<string, unknown>): string | undefined {
  const cwd = body.cwd;
  if (cwd === undefined || cwd === null) return undefined;
  if (typeof cwd !== "string" || !cwd.startsWith("/") || cwd.includes("\0") || cwd.length > 4096) {
    throw new PodflareError("bad_request", `cwd must be an absolute path of an existing directory, got ${JSON.stringify(cwd)}`);
  }
  return cwd;
}

export function contextRoutes(sandboxes: SandboxManager, route: RouteFn, sandboxId: (ctx: RouteContext) => string): Route[] {
  const CTX = "/v1/sandboxes/([^/]+)/contexts";
  return [
    route("POST", CTX, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const cwd = parseCreateContext(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => createContext(rt, id, cwd, ms)));
    }),

    route("GET", CTX, async (ctx) => {
      const id = sandboxId(ctx);
      sendJson(ctx.res, 200, { contexts: await sandboxes.withContexts(ctx.owner, id, false, (rt, ms) => listContexts(rt, ms)) });
    }),

    route("POST", `${CTX}/([^/]+)/restart`, async (ctx) => {
      const id = sandboxId(ctx);
      const cid = checkContextId(id, ctx.params[1]!);
      sendJson(ctx.res, 200, await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => restartContext(rt, id, cid, ms)));
    }),

    route("DELETE", `${CTX}/([^/]+)`, async (ctx) => {
      const id = sandboxId(ctx);
      const cid = checkContextId(id, ctx.params[1]!);
      await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => deleteContext(rt, id, cid, ms));
      sendNoContent(ctx.res);
    }),
  ];
}
