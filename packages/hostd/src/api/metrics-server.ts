// PODFLARE_METRICS_ADDR: /metrics alone on a bind of its own, without auth, for a Prometheus
// that the operator's firewall lets reach it (docs/operations.md, "Metrics").
import http from "node:http";
import type { HostdMetrics } from "../metrics/index.js";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics-routes.js";
import { connectionsCheckingIntervalMs } from "./connection-limits.js";
import { requestUrl } from "./request-url.js";

export function createMetricsServer(metrics: HostdMetrics, log: (msg: string) => void): http.Server {
  const server = http.createServer({ connectionsCheckingInterval: connectionsCheckingIntervalMs(10_000) }, (req, res) => {
    const path = requestUrl(req.url).pathname;
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("only GET /metrics is served here\n");
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: Error) => {
        log(`internal error: metrics: ${err.stack ?? err.message}`);
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("metrics failed; see hostd's log\n");
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
