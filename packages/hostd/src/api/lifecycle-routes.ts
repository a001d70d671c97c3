// Lifecycle routes: pause/resume, idle-timeout extension, freeze to a Space, and Spaces.
import {
  limits,
  type ListSpacesResponse,
  type ResumeSpaceResponse,
  type SandboxInfo,
  type SetIdleTimeoutResponse,
  type SpaceInfo,
} from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import type { SpaceService } from "../lifecycle/spaces.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { checkRegion } from "./region.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseSetTimeout } from "./validate.js";

export function lifecycleRoutes(sandboxes: SandboxManager, spaces: SpaceService, route: RouteMaker, region?: string): Route[] {
  return [
    route("POST", `${SB}/pause`, async (ctx) => {
      sendJson(ctx.res, 200, (await sandboxes.pause(ctx.owner, sandboxId(ctx), true)) satisfies SandboxInfo);
    }),
    route("POST", `${SB}/resume`, async (ctx) => {
      sendJson(ctx.res, 200, (await sandboxes.resume(ctx.owner, sandboxId(ctx))) satisfies SandboxInfo);
    }),
    route("POST", `${SB}/timeout`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id);
      const change = parseSetTimeout(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, sandboxes.setTimeouts(ctx.owner, id, change, ctx.principal.tier) satisfies SetIdleTimeoutResponse);
    }),
    route("POST", `${SB}/freeze`, async (ctx) => {
      sendJson(ctx.res, 200, (await spaces.freeze(ctx.owner, sandboxId(ctx), ctx.principal.tier)) satisfies SpaceInfo);
    }),
    route("GET", "/v1/spaces", (ctx) => {
      sendJson(ctx.res, 200, { spaces: spaces.list(ctx.owner) } satisfies ListSpacesResponse);
    }),
    route("GET", "/v1/spaces/([^/]+)", (ctx) => {
      sendJson(ctx.res, 200, spaces.get(ctx.owner, ctx.params[0]!) satisfies SpaceInfo);
    }),
    route("DELETE", "/v1/spaces/([^/]+)", async (ctx) => {
      await spaces.delete(ctx.owner, ctx.params[0]!);
      sendNoContent(ctx.res);
    }),
    route("POST", "/v1/spaces/([^/]+)/resume", async (ctx) => {
      checkRegion(ctx.req, await readJsonBody(ctx.req, limits.maxJsonBytes), region);
      sendJson(ctx.res, 200, (await spaces.resume(ctx.owner, ctx.params[0]!, ctx.principal.tier)) satisfies ResumeSpaceResponse);
    }),
  ];
}
