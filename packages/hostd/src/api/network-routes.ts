// PUT /v1/sandboxes/:id/network: change a running sandbox's egress policy (or egress itself).
import { limits, type SandboxInfo } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody, sendJson } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseSetNetwork } from "./validate.js";

export function networkRoutes(sandboxes: SandboxManager, route: RouteMaker): Route[] {
  return [
    route("PUT", `${SB}/network`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id);
      const req = parseSetNetwork(await readJsonBody(ctx.req, limits.maxJsonBytes));
      sendJson(ctx.res, 200, (await sandboxes.setNetwork(ctx.owner, id, req)) satisfies SandboxInfo);
    }),
  ];
}
