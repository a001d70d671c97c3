// The route table of the REST API, assembled from the route files (one topic each).
import type { Duplex } from "node:stream";
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
import { namingRaces } from "./naming-races.js";
import { route, type Route } from "./route.js";
import { sandboxRoutes } from "./sandbox-routes.js";
import { usageHistoryRoutes } from "./usage-history-routes.js";

export type { Route, RouteContext } from "./route.js";

export function buildRoutes(cfg: HostdConfig, sandboxes: SandboxManager, keys: KeyStore, keyGuard: LastKeyGuard, spaces: SpaceService, pool: WarmPool, proxy?: PortProxy, metrics?: MetricsDeps, usageHistory?: UsageHistory, onKeyRevoked?: (id: string, by: Duplex) => Promise<void>): Route[] {
  return namingRaces(sandboxes, [
    ...hostRoutes(cfg, sandboxes, pool, route),
    ...keyRoutes(keys, route, keyGuard, onKeyRevoked),
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
