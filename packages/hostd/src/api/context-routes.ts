// REPL contexts: POST/GET /v1/sandboxes/:id/contexts, POST …/contexts/:cid/restart,
// DELETE …/contexts/:cid (docs/api.md, "Contexts"). An exec picks one with `context_id`.
import { limits, type ContextInfo, type ListContextsResponse } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { checkContextId, createContext, deleteContext, listContexts, restartContext } from "../runtime/contexts.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseCreateContext } from "./validate.js";

export function contextRoutes(sandboxes: SandboxManager, route: RouteMaker): Route[] {
  const CTX = `${SB}/contexts`;
  return [
    route("POST", CTX, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const cwd = parseCreateContext(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, (await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => createContext(rt, id, cwd, ms))) satisfies ContextInfo);
    }),

    route("GET", CTX, async (ctx) => {
      const id = sandboxId(ctx);
      sendJson(ctx.res, 200, { contexts: await sandboxes.withContexts(ctx.owner, id, false, (rt, ms) => listContexts(rt, ms)) } satisfies ListContextsResponse);
    }),

    route("POST", `${CTX}/([^/]+)/restart`, async (ctx) => {
      const id = sandboxId(ctx);
      const cid = checkContextId(id, ctx.params[1]!);
      sendJson(ctx.res, 200, (await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => restartContext(rt, id, cid, ms))) satisfies ContextInfo);
    }),

    route("DELETE", `${CTX}/([^/]+)`, async (ctx) => {
      const id = sandboxId(ctx);
      const cid = checkContextId(id, ctx.params[1]!);
      await sandboxes.withContexts(ctx.owner, id, true, (rt, ms) => deleteContext(rt, id, cid, ms));
      sendNoContent(ctx.res);
    }),
  ];
}
