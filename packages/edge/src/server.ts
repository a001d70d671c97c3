// The edge's HTTP server: its own endpoints, creates (with failover), calls routed by the
// id's region tag, and everything else to the named or nearest region; upgrades likewise.
import http from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { PodflareError } from "@podflare/protocol";
import type { EdgeConfig } from "./config.js";
import type { Region, RegionSet } from "./regions.js";
import type { EdgeMetrics } from "./metrics.js";
import { classify, e2bSandboxOf, isE2bRequest, type RouteKind } from "./route.js";
import { createThroughEdge } from "./create.js";
import { forward } from "./forward.js";
import { forwardUpgrade, rawError } from "./upgrade.js";
import { regionsEndpoint } from "./regions-endpoint.js";
import { listAcross } from "./lists.js";
import { ListBytes } from "./list-bytes.js";
import { sendEdgeError } from "./answer.js";
import type { RegionChooser } from "./choose-region.js";
import { redactHeaders, redactPath } from "./redact.js";
import { applyConnectionLimits } from "./connection-limits.js";

export interface EdgeServerDeps {
  cfg: EdgeConfig;
  regions: RegionSet;
  metrics: EdgeMetrics;
  log: (msg: string) => void;
  /** PODFLARE_EDGE_ACCESS_LOG=1: one line per request (keys redacted). */
  accessLog: boolean;
  chooser: RegionChooser;
  /** Caps and the idle timeout on its connections; none when the front (front/) owns the sockets. */
  limits: { maxConnections: number; maxConnectionsPerPeer: number; idleTimeoutMs: number } | undefined;
}

/**
 * Only origin-form targets (a path): an absolute-form URL or an authority would otherwise go
 * to the origin as its request line, and the edge must never look like a general proxy.
 */
function checkTarget(req: http.IncomingMessage): void {
  const url = req.url ?? "";
  if (!url.startsWith("/") || url.startsWith("//")) {
    throw new PodflareError("bad_request", `the edge takes origin-form request targets (a path like /v1/sandboxes), not ${JSON.stringify(url.slice(0, 100))}; it is not a general proxy`);
  }
}

function servePlain(req: http.IncomingMessage, socket: Duplex, head: Buffer, serve: (req: http.IncomingMessage, res: http.ServerResponse) => void): void {
  socket.on("error", () => {});
  // Node gives such a request no body stream (what followed the head is in `head`).
  if (head.length > 0 || Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined) {
    rawError(socket, new PodflareError("bad_request", `a request with a body cannot ask for a protocol upgrade (Upgrade: ${req.headers.upgrade}); send it without the Upgrade header`));
    return;
  }
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as net.Socket);
  res.on("finish", () => {
    res.detachSocket(socket as net.Socket);
    socket.end();
  });
  serve(req, res);
}

export function createEdgeServer(deps: EdgeServerDeps): http.Server {
  const { cfg, regions, metrics, log } = deps;

  const { target: chooseTarget, down, broken } = deps.chooser;
  const listBytes = new ListBytes(cfg.listBytesPerCaller);
  const target = (route: RouteKind, req: http.IncomingMessage): Region => chooseTarget(route, req.headers["x-podflare-region"]);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ region: string; kind: string; status: number }> {
    checkTarget(req);
    const route = classify(req.method ?? "GET", req.url ?? "/", e2bSandboxOf(headerOf(req, "e2b-sandbox-id"), req.headers.host), headerOf(req, "mcp-session-id")?.trim());
    if (route.kind === "own") {
      if (route.name === "metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render(regions));
        return { region: "", kind: "own", status: 200 };
      }
      if (route.name === "healthz") {
        const any = regions.nearest().length > 0;
        // x-podflare-edge: how the dashboard (proxied from a region) learns it is behind an edge.
        res.writeHead(any ? 200 : 503, { "content-type": "text/plain", "x-podflare-edge": "1" }).end(any ? "ok" : "no region is healthy");
        return { region: "", kind: "own", status: any ? 200 : 503 };
      }
      return { region: "", kind: "own", status: await regionsEndpoint(regions, req, res, cfg.connectTimeoutMs, cfg.probeIntervalMs) };
    }
    if (route.kind === "create") {
      const r = await createThroughEdge(req, res, regions, {
        connectTimeoutMs: cfg.connectTimeoutMs,
        maxBodyBytes: cfg.maxCreateBodyBytes,
        probeIntervalMs: cfg.probeIntervalMs,
        onFailover: (from, reason) => {
          metrics.failover(from.name);
          log(`create: region ${from.name} failed (${reason}); trying the next nearest`);
        },
      });
      return { ...r, kind: "create" };
    }
    if (route.kind === "list" && !String(req.headers["x-podflare-region"] ?? "").trim()) {
      return { region: "", kind: "list", status: await listAcross(regions, route.field, req, res, cfg.connectTimeoutMs, listBytes) };
    }
    const region = target(route, req);
    const status = await forward(region, req, res, { connectTimeoutMs: cfg.connectTimeoutMs, unreachable: down, broken });
    return { region: region.name, kind: route.kind, status };
  }

  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const started = performance.now();
    handle(req, res).then(
      (done) => finish(req, done.region, done.kind, done.status, started),
      (err: unknown) => {
        const e = err instanceof PodflareError ? err : new PodflareError("internal", `edge error: ${(err as Error)?.message}`);
        if (e.code === "internal") log(`${req.method} ${redactPath(req.url ?? "/")}: ${(err as Error)?.stack ?? String(err)} headers=${JSON.stringify(redactHeaders(req.headers))}`);
        sendEdgeError(res, e, isE2bRequest(req));
        finish(req, "", "error", e.status, started);
      },
    );
  };
  // Node looks for connections past their headers timeout only this often (30 s by default).
  const headersTimeoutMs = cfg.headersTimeoutMs ?? 10_000;
  const server = http.createServer({ connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeoutMs / 10))) }, serve);
  // Long execs and WebSockets stay open as long as both ends do: no request timeout here; the
  // idle timeout of applyConnectionLimits bounds a client that stalls.
  server.requestTimeout = 0;
  server.headersTimeout = headersTimeoutMs;
  server.keepAliveTimeout = 65_000;
  if (deps.limits) applyConnectionLimits(server, deps.limits, log);

  server.on("upgrade", (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    // Node hands over every request asking for any upgrade (curl --http2 asks for h2c on any
    // URL): only WebSockets are spliced; the others are served as plain HTTP/1.1, as hostd does.
    if (String(req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      servePlain(req, client, head, serve);
      return;
    }
    const started = performance.now();
    const route = classify(req.method ?? "GET", req.url ?? "/", e2bSandboxOf(headerOf(req, "e2b-sandbox-id"), req.headers.host), headerOf(req, "mcp-session-id")?.trim());
    let region: Region;
    try {
      checkTarget(req);
      if (route.kind === "own" || route.kind === "create" || route.kind === "list") throw new PodflareError("bad_request", `${req.url} cannot be upgraded; WebSockets go to /v1/sandboxes/:id/ports/:port/…`);
      region = target(route, req);
    } catch (err) {
      const e = err instanceof PodflareError ? err : new PodflareError("internal", String(err));
      client.on("error", () => {});
      rawError(client, e);
      finish(req, "", "upgrade", e.status, started);
      return;
    }
    void forwardUpgrade(region, req, client, head, down, broken).then((status) => finish(req, region.name, "upgrade", status, started));
  });

  function finish(req: http.IncomingMessage, region: string, kind: string, status: number, started: number): void {
    metrics.request(region || "-", kind, status);
    if (deps.accessLog) {
      log(`${req.method} ${redactPath(req.url ?? "/")} -> ${region || "edge"} ${status} ${(performance.now() - started).toFixed(1)} ms headers=${JSON.stringify(redactHeaders(req.headers))}`);
    }
  }

  return server;
}

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
