// The HTTP server: routing, auth, and turning errors into the `{error, code}` envelope.
import http from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { PodflareError } from "@podflare/protocol";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import type { OpenCalls } from "../auth/open-calls.js";
import type { HttpLimits } from "../config.js";
import { applyConnectionLimits, connectionsCheckingIntervalMs, overPeerCap } from "./connection-limits.js";
import { answerClientError } from "./client-error.js";
import { badQueryMessage, badQueryPart } from "./query-encoding.js";
import { LOCAL_OWNER } from "../auth/authenticator.js";
import { noteRequestOwner } from "./body-budget.js";
import { paced, requestPacer } from "./request-pacer.js";
import { answerThenClose, sendError } from "./http.js";
import type { RequestObserver, RequestTrace } from "./request-log.js";
import type { Route } from "./route.js";
import { routeLabel } from "../metrics/route-label.js";
import { requestUrl } from "./request-url.js";
import { foreignCaller } from "./local-caller.js";

/**
 * Handles an HTTP upgrade (WebSocket) request and owns the socket from then on; returns
 * false for a request it does not upgrade, which is then served as plain HTTP/1.1.
 */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** hostd's HTTP server, with what its shutdown needs (hostd.ts, close). */
export interface ApiServer extends http.Server {
  /**
   * Stops taking requests (later ones on open connections answer 503 and close) and resolves
   * once every state change taken (STATE_CHANGE) has begun its answer, or after `timeoutMs`: a
   * create or fork under way finishes and is answered instead of being cut off while it goes on
   * (its caller would never hear of the sandbox). Other calls are cut as the server closes.
   */
  drain(timeoutMs: number): Promise<void>;
}

const DRAIN_POLL_MS = 10;

/**
 * Calls that make, change or close sandboxes and Spaces (REST and E2B): a stop waits for them.
 * Others (a long poll on a process, a stream) are cut as before.
 */
const STATE_CHANGE = new RegExp(
  "^(?:POST /v1/sandboxes|POST /v1/sandboxes/[^/]+/(?:fork|freeze|pause|resume|restart_repl|merge_into/[^/]+)" +
    "|DELETE /v1/sandboxes/[^/]+|POST /v1/spaces/[^/]+/resume" +
    "|POST /(?:v2/)?sandboxes|POST /sandboxes/[^/]+/(?:fork|pause|resume)|POST /v2/sandboxes/[^/]+/connect|DELETE /sandboxes/[^/]+)$",
);

function changesState(req: http.IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?")[0];
  return STATE_CHANGE.test(`${req.method} ${path}`);
}

export function createApiServer(
  routes: Route[],
  auth: Authenticator,
  log: (msg: string) => void,
  upgrade: UpgradeHandler | undefined,
  limits: HttpLimits,
  observe?: RequestObserver,
  /** Served first: resolves true for a request it answered (E2B compatibility, e2b/index.ts). */
  front?: (req: http.IncomingMessage, res: http.ServerResponse, trace?: RequestTrace) => Promise<boolean>,
  /** Each authenticated request is tracked under its key while it is answered (closed on revocation). */
  calls?: OpenCalls,
): ApiServer {
  let stopping = false;
  const unanswered = new Set<http.ServerResponse>();
  const server = http.createServer({ connectionsCheckingInterval: connectionsCheckingIntervalMs(limits.headersTimeoutMs) }, (req, res) => {
    const trace = observe?.(req, res);
    const over = overPeerCap(req.socket);
    if (over !== undefined) {
      answerThenClose(res, 503, { "content-type": "application/json", "retry-after": "1" }, JSON.stringify({ error: over, code: "unavailable" }));
      return;
    }
    if (stopping) {
      res.shouldKeepAlive = false;
      sendError(res, new PodflareError("unavailable", "hostd is stopping; send the call again in a moment (to this hostd once it is back, or another)"), log);
      return;
    }
    const foreign = foreignWhileLocal(auth, req);
    if (foreign !== undefined) {
      sendError(res, foreignRefusal(foreign), log);
      return;
    }
    if (changesState(req)) {
      unanswered.add(res);
      res.once("close", () => unanswered.delete(res));
    }
    void handle(req, res, trace).catch((err) => sendError(res, err, log));
  }) as ApiServer;
  server.drain = async (timeoutMs) => {
    stopping = true;
    server.closeIdleConnections();
    const deadline = Date.now() + timeoutMs;
    while ([...unanswered].some((res) => !res.headersSent) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  };
  applyConnectionLimits(server, limits, log);
  server.on("clientError", (err: Error, socket: Duplex) => answerClientError(err, socket, limits.headersTimeoutMs));
  if (upgrade) {
    // With an 'upgrade' listener Node hands over every request that asks for one (curl
    // --http2 asks for h2c on any URL); those we do not upgrade are answered normally.
    server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // A browser's WebSocket is not held by CORS at all: the same check before any upgrade.
      const foreign = foreignWhileLocal(auth, req);
      const over = overPeerCap(socket as net.Socket);
      if (foreign === undefined && over === undefined && upgrade(req, socket, head)) return;
      socket.on("error", () => {});
      const res = new http.ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as net.Socket);
      res.on("finish", () => {
        res.detachSocket(socket as net.Socket);
        socket.end();
      });
      if (over !== undefined) {
        sendError(res, new PodflareError("unavailable", over, { "retry-after": "1" }), log);
        return;
      }
      if (foreign !== undefined) {
        sendError(res, foreignRefusal(foreign), log);
        return;
      }
      // Node gives such a request no body stream (the bytes after the head are in `head`).
      const hasBody = head.length > 0 || Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
      if (hasBody) {
        sendError(res, new PodflareError("bad_request", `a request with a body cannot ask for a protocol upgrade (Upgrade: ${req.headers.upgrade}) on ${req.url}; send it without the Upgrade header`), log);
        return;
      }
      const trace = observe?.(req, res);
      void handle(req, res, trace).catch((err) => sendError(res, err, log));
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, trace?: RequestTrace): Promise<void> {
    if (front && (await front(req, res, trace))) return;
    await routeRequest(routes, auth, req, res, trace, calls);
  }

  return server;
}

/**
 * Finds the request's route, authenticates it when the route wants auth, and runs it; a thrown
 * error is the caller's to answer. The HTTP server and the in-process API (local-api.ts) both
 * serve through here, so both get the same routes, auth and validation.
 */
export async function routeRequest(routes: Route[], auth: Authenticator, req: http.IncomingMessage, res: http.ServerResponse, trace?: RequestTrace, calls?: OpenCalls): Promise<void> {
  const url = requestUrl(req.url);
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(url.pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== req.method) continue;
    if (trace) trace.route = routeLabel(route.pattern);
    const principal: Principal = route.auth ? auth.principal(req) : { owner: "", tier: "free", admin: false };
    if (route.auth) {
      calls?.trackRequest(principal.owner, req.socket, res);
      noteRequestOwner(req, principal.owner);
      if (principal.owner !== LOCAL_OWNER) await paced(requestPacer(), principal.owner, req);
    }
    const params = m.slice(1).map(decodeParam);
    const badQuery = badQueryPart(url.search);
    if (badQuery !== undefined) throw new PodflareError("bad_request", badQueryMessage(badQuery));
    if (trace) {
      if (route.auth) trace.keyId = principal.owner;
      if (url.pathname.startsWith("/v1/sandboxes/")) trace.sandboxId = params[0];
    }
    await route.handle({ req, res, url, owner: principal.owner, principal, params });
    return;
  }
  if (pathMatched) throw new PodflareError("method_not_allowed", `${req.method} is not allowed on ${url.pathname}`);
  throw new PodflareError("not_found", `no route for ${req.method} ${url.pathname}; see docs/api.md`);
}

function decodeParam(raw: string | undefined): string {
  if (raw === undefined) return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new PodflareError("bad_request", `${JSON.stringify(raw)} in the URL is not valid percent-encoding`);
  }
}

/** A foreign Origin or Host, refused while only local programs may call (api/local-caller.ts).
 * The headers are looked at first: whether auth is off asks the key store, not for every request. */
function foreignWhileLocal(auth: Authenticator, req: http.IncomingMessage): string | undefined {
  const foreign = foreignCaller(req.headers, req.url);
  return foreign !== undefined && auth.localOnly() ? foreign : undefined;
}

function foreignRefusal(header: string): PodflareError {
  return new PodflareError(
    "forbidden",
    `this hostd has auth off (a loopback bind with no key), so only programs on this machine may call it, and a request with ${header} comes from a web page or another name for this host; ` +
      "create a key (`podflare keys create`) and send it, or call from a local program",
  );
}
