// Creates on the fast path: the body held whole (bounded), then each candidate region in turn,
// by the rule of create.ts (docs/edge.md, "Failover"): a connection error before the request
// was all sent, or a 5xx, moves on; an answer is relayed once; a connection broken after the
// request was sent is answered 502, never sent again.
import { PodflareError } from "@podflare/protocol";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { afterFailedTry, candidates, parseMaybe } from "../create.js";
import { originPath } from "../origin-request.js";
import type { Region } from "../regions.js";
import { namedRegion } from "../route.js";
import type { Exchange } from "./exchange.js";
import type { FrontDeps } from "./front-deps.js";
import { forwardHead } from "./heads.js";
import { POOL_FULL, poolFullError } from "./origin-pool.js";

export interface SendHooks {
  done(keepAlive: boolean): void;
  failedBeforeAnswer(reason: string): void;
  /** Before the answer's head goes to the caller; false: it is not relayed (the target is dropped). */
  beforeAnswer?(status: number): boolean;
}

/** What the create flow uses of a caller's connection (client-connection.ts). */
export interface FrontConnection {
  readonly deps: FrontDeps;
  readonly closed: boolean;
  readonly remoteAddress: string | undefined;
  readonly localHost: string;
  send(ex: Exchange, target: Duplex, head: string, hooks: SendHooks, wholeBody?: Buffer): void;
  answerError(ex: Exchange, err: PodflareError): void;
  toInner(ex: Exchange): void;
}

type Attempt = { kind: "relayed" } | { kind: "failed"; sent: boolean; reason: string } | { kind: "retry"; status: number };

/**
 * A create: its body held whole, then each candidate region in turn (docs/edge.md, "Failover").
 * Callbacks rather than awaits: the common case (a whole body, an idle connection to the
 * nearest region) runs in the tick that read the request.
 */
export function createThroughFront(conn: FrontConnection, ex: Exchange): void {
  if (!ex.requestDone) {
    ex.onRequestDone = () => createThroughFront(conn, ex);
    return;
  }
  if (ex.plan.to !== "create" || conn.closed) return; // moved to the edge's server (too big)
  const body = ex.held.length === 1 ? ex.held[0]! : Buffer.concat(ex.held);
  ex.held = [];
  let list: Region[];
  const name = namedRegion(parseMaybe(body), ex.facts.regionHeader);
  try {
    list = candidates(conn.deps.regions, name, conn.deps.probeIntervalMs);
  } catch {
    // No region to try: the edge's own server gives the answer (it decides the same way).
    ex.held = [body];
    ex.plan = { to: "inner" };
    conn.toInner(ex);
    return;
  }
  tryRegion(conn, ex, body, list, 0, name !== undefined);
}

function tryRegion(conn: FrontConnection, ex: Exchange, body: Buffer, list: Region[], i: number, named: boolean): void {
  const r = list[i]!;
  const more = i < list.length - 1;
  attempt(conn, ex, r, body, more, (result) => {
    if (result.kind === "relayed" || conn.closed) return;
    if (result.kind === "retry") {
      conn.deps.onFailover(r, `answered ${result.status}`);
      return tryRegion(conn, ex, body, list, i + 1, named);
    }
    const answer = afterFailedTry(r, result, named, more, (x, why) => conn.deps.chooser.down(x, why), conn.deps.probeIntervalMs);
    if (answer) return conn.answerError(ex, answer);
    conn.deps.onFailover(r, result.reason);
    tryRegion(conn, ex, body, list, i + 1, named);
  });
}

/** One region's try at a create; a 5xx with regions left is not relayed. */
function attempt(conn: FrontConnection, ex: Exchange, r: Region, body: Buffer, more: boolean, then: (a: Attempt) => void): void {
  ex.region = r.name;
  ex.sentAll = false;
  const pool = conn.deps.pool(r);
  const go = (socket: net.Socket): void => {
    if (conn.closed) {
      pool.release(socket);
      return then({ kind: "relayed" });
    }
    const head = forwardHead(ex.head, originPath(r, ex.head.url), false, conn.remoteAddress, body.length, conn.localHost);
    conn.send(ex, socket, head, {
      done: (keepAlive) => (keepAlive ? pool.release(socket) : pool.discard(socket)),
      failedBeforeAnswer: (reason) => then({ kind: "failed", sent: ex.sentAll, reason }),
      beforeAnswer: (status) => {
        if (status >= 500 && more) {
          pool.discard(socket);
          then({ kind: "retry", status });
          return false;
        }
        then({ kind: "relayed" });
        return true;
      },
    }, body);
  };
  const idle = pool.takeIdle();
  if (idle) return go(idle);
  pool.acquire(conn.deps.connectTimeoutMs).then(go, (err: NodeJS.ErrnoException) => {
    if (err.code !== POOL_FULL) return then({ kind: "failed", sent: false, reason: err.code ?? "connection error" });
    // The edge's own limit: the next region may have room; the region is not marked down.
    if (more) return then({ kind: "retry", status: 503 });
    conn.answerError(ex, poolFullError(r, conn.deps.connectTimeoutMs));
    then({ kind: "relayed" });
  });
}
