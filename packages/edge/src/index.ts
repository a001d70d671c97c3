// @podflare/edge: a stateless front door for several regions (docs/edge.md).
//
//   const edge = await startEdge(loadEdgeConfig(["--region", "us-west=http://usw1:7070"]));
//   console.log(edge.url); await edge.close();
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { checkUnique, loadEdgeConfig, type EdgeConfig, type RegionConfig } from "./config.js";
import { EdgeMetrics } from "./metrics.js";
import { RegionSet } from "./regions.js";
import { redactLine } from "./redact.js";
import { createEdgeServer } from "./server.js";

export { loadEdgeConfig, type EdgeConfig, type RegionConfig };
export { classify } from "./route.js";

export interface RunningEdge {
  url: string;
  regions: RegionSet;
  server: http.Server;
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
  const server = createEdgeServer({ cfg, regions, metrics: new EdgeMetrics(), log, accessLog: opts.accessLog ?? false });
  const { host, port } = splitAddr(cfg.addr);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    regions,
    server,
    close: async () => {
      regions.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
