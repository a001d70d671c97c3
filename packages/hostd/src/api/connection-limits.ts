// Limits against slow and too many clients: connection caps (total, per peer address) and an
// idle timeout that closes a connection only when the client is the one stalling.
import type http from "node:http";
import type net from "node:net";
import { StallClock } from "@podflare/protocol";
import type { HttpLimits } from "../config.js";

interface InFlight {
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

/**
 * How often Node's HTTP server looks for connections past their headers timeout: give it to
 * http.createServer. Node's default is every 30 s, which let a slow client keep a connection
 * without its headers for up to 40 s against a 10 s PODFLARE_HTTP_HEADERS_TIMEOUT_MS.
 */
export function connectionsCheckingIntervalMs(headersTimeoutMs: number): number {
  return Math.max(250, Math.min(1000, Math.floor(headersTimeoutMs / 10)));
}

// A connection over its peer's cap has this long to send the request it is refused.
const REFUSED_TIMEOUT_MS = 5000;
const refused = new WeakMap<net.Socket, string>();

/** Why a request's connection is refused (over its peer's cap), or undefined: serve it. */
export function overPeerCap(socket: net.Socket): string | undefined {
  return refused.get(socket);
}

export function applyConnectionLimits(server: http.Server, limits: HttpLimits, log: (msg: string) => void): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Exec streams and uploads may legitimately run for hours; the idle timeout below is what
  // bounds a client that stalls, whatever the request.
  server.requestTimeout = 0;
  server.maxConnections = limits.maxConnections;

  const perPeer = new Map<string, number>();
  let refusedLogged = 0;
  // Past maxConnections Node closes a new connection at once, unanswered: say so (once a minute),
  // or a client's reset has no trace here at all.
  let droppedLogged = 0;
  server.on("drop", (data?: { remoteAddress?: string }) => {
    if (Date.now() - droppedLogged < 60_000) return;
    droppedLogged = Date.now();
    log(`WARNING: dropping new connections (from ${data?.remoteAddress ?? "?"} and others): ${limits.maxConnections} are open (PODFLARE_HTTP_MAX_CONNECTIONS)`);
  });
  server.on("connection", (socket: net.Socket) => {
    const peer = socket.remoteAddress ?? "?";
    const n = (perPeer.get(peer) ?? 0) + 1;
    if (n > limits.maxConnectionsPerPeer) {
      // Logged at most once a minute: a flood must not fill the log either.
      if (Date.now() - refusedLogged > 60_000) {
        refusedLogged = Date.now();
        log(`refusing connections from ${peer}: over ${limits.maxConnectionsPerPeer} open (PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER)`);
      }
      // Answered, not reset: a reset after the request was written leaves the caller (an
      // edge, above all) unable to tell whether it was read; a 503 says it was not, so an
      // edge moves a create to another region (outside tester th). The connection gets a short
      // timeout and its request nothing but that answer (overPeerCap).
      refused.set(socket, `hostd has ${limits.maxConnectionsPerPeer} connections open from ${peer} (PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER); this request was not served: close idle connections and retry`);
      socket.setTimeout(REFUSED_TIMEOUT_MS);
      return;
    }
    perPeer.set(peer, n);
    socket.once("close", () => {
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });

  const inFlight = new WeakMap<net.Socket, InFlight>();
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, { req, res });
    res.once("close", () => {
      if (inFlight.get(socket)?.res === res) inFlight.delete(socket);
    });
  });

  // Looked at every quarter of the idle timeout, the stall timed across looks (StallClock): a
  // client that stopped reading was cut only at twice the timeout (outside tester ts: 240 s,
  // holding its sandbox's exec queue).
  const stalls = new StallClock<net.Socket>(limits.idleTimeoutMs);
  server.timeout = stalls.lookMs;
  // With a listener here Node leaves the decision to us: close when the client stalls (a body
  // that stopped coming, an answer it stopped reading, an idle connection); keep waiting when
  // hostd is the one with nothing to say yet (an exec that prints nothing for a while).
  server.on("timeout", (socket: net.Socket) => {
    const flight = inFlight.get(socket);
    const clientStalled =
      !flight || !flight.req.complete || flight.res.writableNeedDrain || socket.writableLength > 0;
    if (stalls.expired(socket, clientStalled)) socket.destroy();
    else socket.setTimeout(stalls.lookMs);
  });
}
