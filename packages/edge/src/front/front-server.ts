// The edge's listening socket when the fast path is on (the default): connections are capped
// in total and per peer address as node:http's were (connection-limits.ts), then each is a
// ClientConnection. Calls on a sandbox or Space, creates and anything routed to a region go
// straight to the region's hostd on raw keep-alive connections; the rest is served by the
// edge's node:http server (server.ts) through an in-memory connection. Why: a Node http
// server and client in the path cost ~0.4 ms a request on this class of host, llhttp and raw
// sockets ~0.15 ms (docs/edge.md, "Latency").
import net from "node:net";
import { perPeerCap, type EdgeConnectionLimits } from "../connection-limits.js";
import { ClientConnection } from "./client-connection.js";
import type { FrontDeps } from "./front-deps.js";

// How often connections are checked for slow heads and idleness (at most).
const SWEEP_MS = 1000;

/** The front's listening server, with what the edge's stop needs (index.ts, close). */
export interface FrontServer extends net.Server {
  /**
   * Stops taking requests (a new one answers 503 and its connection closes), closes idle
   * connections, and resolves once every request taken has begun its answer, or after
   * `timeoutMs`: a create or an exec already passed to a region is answered, not cut off
   * while the region goes on with it (the caller would not know it happened).
   */
  drain(timeoutMs: number): Promise<void>;
  /** Requests taken whose answer has not begun. */
  unanswered(): number;
}

const DRAIN_POLL_MS = 10;

export function createFrontServer(deps: Omit<FrontDeps, "forget" | "draining">, limits: EdgeConnectionLimits): FrontServer {
  const live = new Set<ClientConnection>();
  let draining = false;
  const full: FrontDeps = { ...deps, forget: (c) => live.delete(c as ClientConnection), draining: () => draining };
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const c of live) c.sweep(now);
  }, Math.min(SWEEP_MS, Math.ceil(Math.min(deps.headersTimeoutMs, limits.idleTimeoutMs) / 4)));
  sweeper.unref();
  const admit = perPeerCap(limits.maxConnectionsPerPeer, deps.log);
  // allowHalfOpen: the connection decides what a caller's end of sending means (a WebSocket's
  // other side keeps going; a plain request in flight is abandoned, as node:http does).
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (!admit(socket)) return;
    live.add(new ClientConnection(socket, full));
  });
  server.maxConnections = limits.maxConnections;
  server.once("close", () => clearInterval(sweeper));
  const front = server as FrontServer;
  front.unanswered = () => [...live].filter((c) => c.awaitingAnswer()).length;
  front.drain = async (timeoutMs) => {
    draining = true;
    server.close();
    for (const c of live) c.closeIfIdle();
    const deadline = Date.now() + timeoutMs;
    while (front.unanswered() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  };
  return front;
}
