// Host-wide reads: GET /v1/healthz (no key), GET /v1/capacity and GET /v1/usage.
import type { HostCapacityResponse, OwnerCapacityResponse, UsageReport } from "@podflare/protocol";
import { tiers } from "../auth/tiers.js";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import type { WarmPool } from "../lifecycle/warm-pool.js";
import { sendJson } from "./http.js";
import type { Route, RouteMaker } from "./route.js";

export function hostRoutes(cfg: HostdConfig, sandboxes: SandboxManager, pool: WarmPool, route: RouteMaker): Route[] {
  return [
    route("GET", "/v1/healthz", ({ res }) => {
      // The region and its id tag ride in headers (the body stays Podflare's "ok"): an edge
      // learns from its probes which tag each origin's ids carry (docs/edge.md).
      if (cfg.region) res.setHeader("x-podflare-region", cfg.region);
      if (cfg.regionTag) res.setHeader("x-podflare-region-tag", cfg.regionTag);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    }, false),

    route("GET", "/v1/capacity", ({ res, owner, principal }) => {
      // A tenant sees its own numbers; the host's load and pool hits are an operator's business.
      if (!principal.admin) {
        const max = tiers[principal.tier].concurrentSandboxes;
        sendJson(res, 200, { scope: "owner", tier: principal.tier, sandboxes: sandboxes.countOf(owner), max_sandboxes: max } satisfies OwnerCapacityResponse);
        return;
      }
      sendJson(res, 200, {
        scope: "host",
        sandboxes: sandboxes.count,
        max_sandboxes: cfg.maxSandboxes,
        pool: pool.stats(),
      } satisfies HostCapacityResponse);
    }),

    route("GET", "/v1/usage", (ctx) => {
      sendJson(ctx.res, 200, sandboxes.usageOf(ctx.owner) satisfies UsageReport);
    }),
  ];
}
