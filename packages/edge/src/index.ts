// @podflare/edge: a stateless front door for several regions (docs/edge.md).
//
//   const edge = await startEdge(loadEdgeConfig(["--region", "us-west=http://usw1:7070"]));
//   console.log(edge.url); await edge.close();
import type http from "node:http";
import type net from "node:net";
import type { AddressInfo } from "node:net";
import { checkUnique, loadEdgeConfig, type EdgeConfig, type RegionConfig } from "./config.js";
import { EdgeMetrics } from "./metrics.js";
import { RegionSet } from "./regions.js";
import { redactLine } from "./redact.js";
import { createEdgeServer } from "./server.js";
import { regionChooser } from "./choose-region.js";
import { createFrontServer } from "./front/front-server.js";
import { parserAvailable } from "./front/llhttp.js";
import { OriginPool } from "./front/origin-pool.js";
import { KeyShares } from "./front/key-shares.js";
import type { Region } from "./regions.js";

export { loadEdgeConfig, type EdgeConfig, type RegionConfig };
export { classify } from "./route.js";

export interface RunningEdge {
  url: string;
  regions: RegionSet;
  /** The node:http server: the whole edge with the fast path off, else what the fast path hands on. */
  server: http.Server;
  /** Whether calls go through the llhttp fast path (front/). */
  fastPath: boolean;
  /** Callers' connections with a request taken whose answer has not begun (0 on the node:http-only path). */
  unanswered(): number;
  close(): Promise<void>;
}

export interface StartEdgeOptions {
  log?: (msg: string) => void;
  accessLog?: boolean;
}

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PODFLARE_EDGE_ADDR must be host:port like 127.0.0.1:7080, got ${JSON.stringify(addr)}`);
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port };
}

/** Probes every region once, then listens. */
export async function startEdge(cfg: EdgeConfig, opts: StartEdgeOptions = {}): Promise<RunningEdge> {
  const sink = opts.log ?? ((m: string) => console.error(m));
  const log = (m: string) => sink(redactLine(`edge: ${m}`));
  checkUnique(cfg.regions);
  const regions = new RegionSet(cfg, log);
  await regions.start();
  const metrics = new EdgeMetrics();
  const chooser = regionChooser(regions, cfg.probeIntervalMs, log);
  const accessLog = opts.accessLog ?? false;
  const limits = cfg.limits ?? { maxConnections: 4096, maxConnectionsPerPeer: 64, idleTimeoutMs: 120_000 };
  const fastPath = (cfg.fastPath ?? true) && parserAvailable();
  if ((cfg.fastPath ?? true) && !fastPath) log("this Node has no llhttp parser in _http_common: serving through node:http only (slower)");
  const server = createEdgeServer({ cfg, regions, metrics, log, accessLog, chooser, limits: fastPath ? undefined : limits });
  const pools = new Map<Region, OriginPool>();
  const pool = (r: Region): OriginPool => {
    let p = pools.get(r);
    if (!p) pools.set(r, (p = new OriginPool(r.url, cfg.maxSocketsPerRegion ?? 1024)));
    return p;
  };
  const front = fastPath
    ? createFrontServer(
        {
          regions, chooser, metrics, log, accessLog, inner: server, pool,
          shares: new KeyShares(cfg.callsPerKey ?? Math.max(1, Math.floor((cfg.maxSocketsPerRegion ?? 1024) / 4))),
          connectTimeoutMs: cfg.connectTimeoutMs,
          idleTimeoutMs: limits.idleTimeoutMs,
          headersTimeoutMs: cfg.headersTimeoutMs ?? 10_000,
          maxCreateBodyBytes: cfg.maxCreateBodyBytes,
          probeIntervalMs: cfg.probeIntervalMs,
          onFailover: (from, reason) => {
            metrics.failover(from.name);
            log(`create: region ${from.name} failed (${reason}); trying the next nearest`);
          },
        },
        limits,
      )
    : undefined;
  const listener: net.Server = front ?? server;
  const sockets = new Set<net.Socket>();
  front?.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const { host, port } = splitAddr(cfg.addr);
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(port, host, () => resolve());
  });
  const bound = (listener.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    regions,
    server,
    fastPath,
    unanswered: () => front?.unanswered() ?? 0,
    close: async () => {
      // Calls under way are answered first (up to drainMs): a create or exec a region took is
      // not cut off while it goes on there (docs/edge.md, "Stopping").
      if (front) await front.drain(cfg.drainMs ?? DRAIN_MS);
      else await drainNodeServer(server, cfg.drainMs ?? DRAIN_MS);
      regions.stop();
      for (const p of pools.values()) p.close();
      server.closeAllConnections();
      if (front) {
        const closed = new Promise<void>((r) => front.close(() => r()));
        for (const s of sockets) s.destroy();
        await closed;
      } else await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** How long a stop waits for the calls under way to be answered. */
const DRAIN_MS = 30_000;

/** The node:http-only edge's drain: no new connections, idle ones closed, then answers under way. */
async function drainNodeServer(server: http.Server, timeoutMs: number): Promise<void> {
  server.close();
  server.closeIdleConnections();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await connectionCount(server)) > 0) {
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 10));
  }
}

function connectionCount(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}
