// What a caller's connection in the front needs from the edge around it.
import type http from "node:http";
import type { RegionChooser } from "../choose-region.js";
import type { EdgeMetrics } from "../metrics.js";
import type { Region, RegionSet } from "../regions.js";
import type { KeyShares } from "./key-shares.js";
import type { OriginPool } from "./origin-pool.js";

export interface FrontDeps {
  regions: RegionSet;
  chooser: RegionChooser;
  metrics: EdgeMetrics;
  log(msg: string): void;
  accessLog: boolean;
  /** The edge's node:http server, for what the fast path does not serve. */
  inner: http.Server;
  pool(r: Region): OriginPool;
  /** Each key's share of the calls open to origins (key-shares.ts). */
  shares: KeyShares;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** A request head must arrive whole within this. */
  headersTimeoutMs: number;
  maxCreateBodyBytes: number;
  probeIntervalMs: number;
  onFailover(from: Region, reason: string): void;
  /** A connection closed: no longer swept. */
  forget(conn: { sweep(nowMs: number): void }): void;
  /** The edge is stopping: a new request is answered 503 and its connection closed. */
  draining(): boolean;
}
