// Forks: POST /v1/sandboxes/:id/fork makes n children; merge_into keeps one child's changes.
import { limits, type ForkResponse } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseFork } from "./validate.js";

export function forkRoutes(sandboxes: SandboxManager, route: RouteMaker): Route[] {
  return [
    route("POST", `${SB}/fork`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const n = parseFork(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, (await sandboxes.fork(ctx.owner, id, n, ctx.principal.tier)) satisfies ForkResponse);
    }),

    route("POST", `${SB}/merge_into/([^/]+)`, async (ctx) => {
      const parent = sandboxId(ctx);
      const winner = sandboxId(ctx, 1);
      await sandboxes.mergeInto(ctx.owner, parent, winner);
      sendNoContent(ctx.res);
    }),
  ];
}
