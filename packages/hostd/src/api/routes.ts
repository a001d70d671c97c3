// The route table of the REST API, assembled from the route files (one topic each).
import { PodflareError } from "@podflare/protocol";
import type { KeyStore } from "../auth/keys.js";
import type { LastKeyGuard } from "../auth/last-key.js";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import type { SpaceService } from "../lifecycle/spaces.js";
import type { UsageHistory } from "../lifecycle/usage-history.js";
import type { WarmPool } from "../lifecycle/warm-pool.js";
import { contextRoutes } from "./context-routes.js";
import { execRoutes } from "./exec-routes.js";
import { fileRoutes } from "./file-routes.js";
import { forkRoutes } from "./fork-routes.js";
import { hostRoutes } from "./host-routes.js";
import { keyRoutes } from "./key-routes.js";
import { lifecycleRoutes } from "./lifecycle-routes.js";
import { networkRoutes } from "./network-routes.js";
import { metricsRoutes, type MetricsDeps } from "./metrics-routes.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import { processRoutes } from "./process-routes.js";
import { fsRoutes } from "./fs-routes.js";
import type { PortProxy } from "./port-proxy.js";
import { route, SB, type Route } from "./route.js";
import { sandboxRoutes } from "./sandbox-routes.js";
import { usageHistoryRoutes } from "./usage-history-routes.js";

export type { Route, RouteContext } from "./route.js";

export function buildRoutes(cfg: HostdConfig, sandboxes: SandboxManager, keys: KeyStore, keyGuard: LastKeyGuard, spaces: SpaceService, pool: WarmPool, proxy?: PortProxy, metrics?: MetricsDeps, usageHistory?: UsageHistory): Route[] {
  return namingRaces(sandboxes, [
    ...hostRoutes(cfg, sandboxes, pool, route),
    ...keyRoutes(keys, route, keyGuard),
    ...sandboxRoutes(cfg, sandboxes, route),
    ...lifecycleRoutes(sandboxes, spaces, route, cfg.region),
    ...networkRoutes(sandboxes, route),
    ...execRoutes(cfg, sandboxes, route),
    ...forkRoutes(sandboxes, route),
    ...fileRoutes(sandboxes, route),
    ...contextRoutes(sandboxes, route),
    ...processRoutes(cfg, sandboxes, route),
    ...fsRoutes(cfg, sandboxes, route),
    ...(metrics ? metricsRoutes(sandboxes, metrics, route) : []),
    ...dashboardRoutes(route),
    ...(proxy ? proxy.routes(route) : []),
    ...(usageHistory ? usageHistoryRoutes(usageHistory, route) : []),
  ]);
}

/**
 * A call on one sandbox that fails on the server's side (its guest kernel or socket went away)
 * because the sandbox was deleted meanwhile answers 404 `sandbox_not_found`, and because its
 * REPL was restarted meanwhile 409 `conflict`: what happened, not a 500 with the runtime's words.
 */
function namingRaces(sandboxes: SandboxManager, routes: Route[]): Route[] {
  return routes.map((r) => {
    if (!r.pattern.source.startsWith(new RegExp(`^${SB}`).source)) return r;
    return {
      ...r,
      handle: async (ctx) => {
        const id = ctx.params[0]!;
        const restarts = sandboxes.restartsOf(ctx.owner, id);
        try {
          await r.handle(ctx);
        } catch (err) {
          if (restarts === null || (err instanceof PodflareError && err.status < 500)) throw err;
          const now = sandboxes.restartsOf(ctx.owner, id);
          if (now === null) throw new PodflareError("sandbox_not_found", `sandbox ${id} was deleted while this call ran`);
          if (now !== restarts) {
            throw new PodflareError("conflict", `the REPL of sandbox ${id} was restarted (restart_repl) while this call ran, and what the call used went with it; try again`);
          }
          throw err;
        }
      },
    };
  });
}
