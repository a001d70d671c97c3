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

export function createFrontServer(deps: Omit<FrontDeps, "forget">, limits: EdgeConnectionLimits): net.Server {
  const live = new Set<{ sweep(nowMs: number): void }>();
  const full: FrontDeps = { ...deps, forget: (c) => live.delete(c) };
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
  return server;
}
