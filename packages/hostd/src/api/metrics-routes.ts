// GET /metrics (Prometheus text, admin key) and GET /v1/sandboxes/:id/metrics (the owner's).
import { PodflareError } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readSandboxMetrics, type HostdMetrics, type SandboxMetricsSource } from "../metrics/index.js";
import { sendJson } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";

export interface MetricsDeps {
  metrics: HostdMetrics;
  sandboxMetrics: SandboxMetricsSource;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function metricsRoutes(sandboxes: SandboxManager, deps: MetricsDeps, route: RouteMaker): Route[] {
  return [
    route("GET", "/metrics", async (ctx) => {
      if (!ctx.principal.admin) {
        throw new PodflareError("forbidden", "/metrics needs the admin key (PODFLARE_ADMIN_KEY or an --admin key), or scrape PODFLARE_METRICS_ADDR instead");
      }
      const text = await deps.metrics.render();
      ctx.res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
      ctx.res.end(text);
    }),

    route("GET", `${SB}/metrics`, async (ctx) => {
      sendJson(ctx.res, 200, await readSandboxMetrics(sandboxes, deps.sandboxMetrics, ctx.owner, sandboxId(ctx)));
    }),
  ];
}
