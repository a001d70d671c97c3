// The HTTP server: routing, auth, and turning errors into the `{error, code}` envelope.
import http from "node:http";
import type { Duplex } from "node:stream";
import { PodflareError } from "@podflare/protocol";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import { sendError } from "./http.js";
import type { Route } from "./routes.js";

/** Handles an HTTP upgrade (WebSocket) request; it owns the socket from then on. */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export function createApiServer(routes: Route[], auth: Authenticator, log: (msg: string) => void, upgrade?: UpgradeHandler): http.Server {
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err) => sendError(res, err, log));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0; // exec streams and uploads may legitimately run for a long time
  if (upgrade) server.on("upgrade", upgrade);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://hostd");
    let pathMatched = false;
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const principal: Principal = route.auth ? auth.principal(req) : { owner: "", tier: "free", admin: false };
      await route.handle({ req, res, url, owner: principal.owner, principal, params: m.slice(1).map(decodeParam) });
      return;
    }
    if (pathMatched) throw new PodflareError("method_not_allowed", `${req.method} is not allowed on ${url.pathname}`);
    throw new PodflareError("not_found", `no route for ${req.method} ${url.pathname}; see docs/api.md`);
  }

  return server;
}

function decodeParam(raw: string | undefined): string {
  if (raw === undefined) return "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new PodflareError("bad_request", `${JSON.stringify(raw)} in the URL is not valid percent-encoding`);
  }
}
