// Limits against slow and too many clients, as hostd has (packages/hostd/src/api/
// connection-limits.ts; the edge keeps its own copy so it runs without hostd's dependencies):
// caps on connections in total and per peer address, and an idle timeout that closes a
// connection only when the client is the one stalling. Behind the edge every caller reaches an
// origin from the edge's address, so the origin's per-peer cap no longer tells callers apart:
// this one does.
import type http from "node:http";
import type net from "node:net";
import { PodflareError, StallClock } from "@podflare/protocol";
import { rawErrorAnswer } from "./answer.js";

export interface EdgeConnectionLimits {
  maxConnections: number;
  maxConnectionsPerPeer: number;
  idleTimeoutMs: number;
}

/**
 * The per-peer cap, for both of the edge's servers (node:http here, the fast path's net server
 * in front/front-server.ts): admit(socket) counts the connection until it closes, or destroys it
 * when its peer already has maxConnectionsPerPeer open (logged at most once a minute).
 */
export function perPeerCap(maxPerPeer: number, log: (msg: string) => void): (socket: net.Socket) => boolean {
  const perPeer = new Map<string, number>();
  let refusedLogged = 0;
  return (socket) => {
    const peer = socket.remoteAddress ?? "?";
    const n = (perPeer.get(peer) ?? 0) + 1;
    if (n > maxPerPeer) {
      if (Date.now() - refusedLogged > 60_000) {
        refusedLogged = Date.now();
        log(`refusing connections from ${peer}: over ${maxPerPeer} open (PODFLARE_EDGE_MAX_CONNECTIONS_PER_PEER)`);
      }
      // Answered, as hostd answers it, not reset: a caller (an SDK, another proxy) then knows the
      // request was not served. What it still sends is read and dropped until the close.
      socket.on("error", () => {});
      socket.resume();
      const err = new PodflareError("unavailable", `the edge has ${maxPerPeer} connections open from ${peer} (PODFLARE_EDGE_MAX_CONNECTIONS_PER_PEER); this request was not served: close idle connections and retry`, { "retry-after": "1" });
      socket.end(rawErrorAnswer(err, true));
      setTimeout(() => socket.destroy(), 2000).unref();
      return false;
    }
    perPeer.set(peer, n);
    socket.once("close", () => {
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
    return true;
  };
}

export function applyConnectionLimits(server: http.Server, limits: EdgeConnectionLimits, log: (msg: string) => void): void {
  server.maxConnections = limits.maxConnections;
  const admit = perPeerCap(limits.maxConnectionsPerPeer, log);
  server.on("connection", (socket: net.Socket) => void admit(socket));

  const inFlight = new WeakMap<net.Socket, { req: http.IncomingMessage; res: http.ServerResponse }>();
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.set(req.socket, { req, res });
    res.once("close", () => {
      if (inFlight.get(req.socket)?.res === res) inFlight.delete(req.socket);
    });
  });
  // Looked at every quarter of the idle timeout, the stall timed across looks (StallClock, as hostd).
  const stalls = new StallClock<net.Socket>(limits.idleTimeoutMs);
  server.timeout = stalls.lookMs;
  // Close when the client stalls (a body that stopped coming, an answer it stopped reading, an
  // idle connection); keep waiting when the origin has nothing to say yet (a quiet exec).
  server.on("timeout", (socket: net.Socket) => {
    const flight = inFlight.get(socket);
    const clientStalled = !flight || !flight.req.complete || flight.res.writableNeedDrain || socket.writableLength > 0;
    if (stalls.expired(socket, clientStalled)) socket.destroy();
    else socket.setTimeout(stalls.lookMs);
  });
}
