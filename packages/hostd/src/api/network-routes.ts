// PUT /v1/sandboxes/:id/network: change a running sandbox's egress policy (or egress itself).
import { limits, PodflareError, type SetNetworkRequest } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody, sendJson } from "./http.js";
import type { Route, RouteContext } from "./routes.js";

type RouteMaker = (method: string, path: string, handle: Route["handle"]) => Route;

export function networkRoutes(sandboxes: SandboxManager, route: RouteMaker, sandboxId: (ctx: RouteContext) => string): Route[] {
  return [
    route("PUT", "/v1/sandboxes/([^/]+)/network", async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id);
      const body = await readJsonBody(ctx.req, limits.maxJsonBytes);
      const { egress, ...policy } = body;
      if (egress !== undefined && typeof egress !== "boolean") throw new PodflareError("bad_request", "egress must be true or false");
      const req: SetNetworkRequest = { ...(policy as SetNetworkRequest), ...(egress === undefined ? {} : { egress }) };
      sendJson(ctx.res, 200, await sandboxes.setNetwork(ctx.owner, id, req));
    }),
  ];
}
