// Small request helpers of the E2B layer: a route table, the caller's key, bounded JSON bodies.
import type { IncomingMessage, ServerResponse } from "node:http";
import { e2bApiKey, limits } from "@podflare/protocol";
import { readJsonBody } from "../api/http.js";
import { E2bError } from "./envelope.js";

export interface E2bContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  /** The API key the call is made with (forwarded to the REST API); undefined: none given. */
  key: string | undefined;
}

export interface E2bRoute {
  method: string;
  pattern: RegExp;
  handle(ctx: E2bContext): Promise<void>;
}

export function e2bRoute(method: string, path: string, handle: E2bRoute["handle"]): E2bRoute {
  return { method, pattern: new RegExp(`^${path}$`), handle };
}

/**
 * Finds the route: null for a path no route knows (the caller decides: 404 or 501), 405 for a
 * known path with another method.
 */
export function match(routes: E2bRoute[], method: string, pathname: string): { route: E2bRoute; params: string[] } | null {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: m.slice(1).map(decode) };
  }
  if (pathMatched) throw new E2bError(405, `${method} is not allowed on ${pathname}`);
  return null;
}

function decode(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? "");
  } catch {
    throw new E2bError(400, `${JSON.stringify(raw)} in the URL is not valid percent-encoding`);
  }
}

/** `X-API-KEY` (what the E2B SDKs send) or `Authorization: Bearer` (what ours send). */
export function apiKeyOf(req: IncomingMessage): string | undefined {
  const x = req.headers["x-api-key"];
  return e2bApiKey(typeof x === "string" ? x : undefined, req.headers.authorization);
}

/** A JSON object body (empty: {}), bounded in size and time like the REST API's own. */
export function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return readJsonBody(req, limits.maxJsonBytes);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}
