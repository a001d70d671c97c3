// Lifecycle routes: pause/resume, idle-timeout extension, freeze to a Space, and Spaces.
import { PodflareError, limits } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import type { SpaceService } from "../lifecycle/spaces.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { checkRegion } from "./region.js";
import type { Route, RouteContext } from "./routes.js";

type RouteMaker = (method: string, path: string, handle: Route["handle"]) => Route;

export function lifecycleRoutes(
  sandboxes: SandboxManager,
  spaces: SpaceService,
  route: RouteMaker,
  sandboxId: (ctx: RouteContext) => string,
  region?: string,
): Route[] {
  const SB = "/v1/sandboxes/([^/]+)";
  return [
    route("POST", `${SB}/pause`, async (ctx) => {
      sendJson(ctx.res, 200, await sandboxes.pause(ctx.owner, sandboxId(ctx)));
    }),
    route("POST", `${SB}/resume`, async (ctx) => {
      sendJson(ctx.res, 200, await sandboxes.resume(ctx.owner, sandboxId(ctx)));
    }),
    route("POST", `${SB}/timeout`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id);
      const body = await readJsonBody(ctx.req, limits.maxJsonBytes);
      const s = body.idle_timeout_s;
      if (typeof s !== "number" || !Number.isInteger(s) || s < 1 || s > 30 * 86400) {
        throw new PodflareError("bad_request", `idle_timeout_s must be an integer number of seconds from 1 to ${30 * 86400}, got ${JSON.stringify(s)}`);
      }
      sendJson(ctx.res, 200, sandboxes.setIdleTimeout(ctx.owner, id, s, ctx.principal.tier));
    }),
    route("POST", `${SB}/freeze`, async (ctx) => {
      sendJson(ctx.res, 200, await spaces.freeze(ctx.owner, sandboxId(ctx), ctx.principal.tier));
    }),
    route("GET", "/v1/spaces", (ctx) => {
      sendJson(ctx.res, 200, { spaces: spaces.list(ctx.owner) });
    }),
    route("GET", "/v1/spaces/([^/]+)", (ctx) => {
      sendJson(ctx.res, 200, spaces.get(ctx.owner, ctx.params[0]!));
    }),
    route("DELETE", "/v1/spaces/([^/]+)", async (ctx) => {
      await spaces.delete(ctx.owner, ctx.params[0]!);
      sendNoContent(ctx.res);
    }),
    route("POST", "/v1/spaces/([^/]+)/resume", async (ctx) => {
      checkRegion(ctx.req, await readJsonBody(ctx.req, limits.maxJsonBytes), region);
      sendJson(ctx.res, 200, await spaces.resume(ctx.owner, ctx.params[0]!, ctx.principal.tier));
    }),
  ];
}
