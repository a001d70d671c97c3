// Which way a request goes, from its method and path alone (pure, unit-tested): the edge's
// own endpoints, a create (buffered, may fail over), a call for one sandbox or Space (to the
// region its id's tag names), or anything else (the named or nearest region). Generic: any
// path with an sbx_/spc_ id in it routes by the id, so new routes need no change here.
import type http from "node:http";
import { mcpSessionIdPattern, routedIdPattern, servedAsE2b } from "@podflare/protocol";
import { listField } from "./lists.js";

export type RouteKind =
  | { kind: "own"; name: "regions" | "metrics" | "healthz" }
  | { kind: "create" }
  | { kind: "id"; id: string; tag: string }
  /** GET /v1/sandboxes or /v1/spaces: every region's, merged (unless a region is named). */
  | { kind: "list"; field: string }
  | { kind: "other" };

/**
 * `e2bSandbox`: the sandbox an E2B request names outside its path (the E2b-Sandbox-Id header, or
 * a `<port>-<id>.<domain>` Host; e2bSandboxOf): envd's and the code interpreter's calls carry
 * their sandbox only there.
 */
export function classify(method: string, rawPath: string, e2bSandbox?: string, mcpSession?: string): RouteKind {
  const path = rawPath.split("?")[0]!;
  // An MCP session lives in the region that opened it: its id carries the region's tag.
  if ((path === "/mcp" || path === "/mcp/") && mcpSession !== undefined && mcpSessionIdPattern.test(mcpSession)) {
    return { kind: "id", id: mcpSession, tag: mcpSession.slice(4, 8) };
  }
  // hostd serves E2B's sandbox traffic by the same header or Host, never on /v1/ paths.
  if (e2bSandbox !== undefined && !path.startsWith("/v1/") && routedIdPattern.test(e2bSandbox)) {
    return { kind: "id", id: e2bSandbox, tag: e2bSandbox.slice(4, 8) };
  }
  if (method === "GET" || method === "HEAD") {
    if (path === "/v1/regions") return { kind: "own", name: "regions" };
    if (path === "/metrics") return { kind: "own", name: "metrics" };
    if (path === "/v1/healthz") return { kind: "own", name: "healthz" };
    if (method === "GET" && path in listField) return { kind: "list", field: listField[path]! };
  }
  if (method === "POST" && (path === "/v1/sandboxes" || path === "/v1/sandboxes/")) return { kind: "create" };
  // E2B's Sandbox.create (docs/e2b.md): a create as ours is, with the same failover.
  if (method === "POST" && (path === "/sandboxes" || path === "/v2/sandboxes")) return { kind: "create" };
  for (const seg of path.split("/")) {
    if (routedIdPattern.test(seg)) return { kind: "id", id: seg, tag: seg.slice(4, 8) };
  }
  return { kind: "other" };
}

const HOST_FORM = /^\d{1,5}-(sbx_[0-9a-f]{32})\./i;

/** The sandbox of an E2B request from its E2b-Sandbox-Id header or its Host, if it names one. */
export function e2bSandboxOf(idHeader: string | undefined, host: string | undefined): string | undefined {
  if (idHeader) return idHeader.trim();
  const m = host ? HOST_FORM.exec(host) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The region named by the create body's `region` or the X-Podflare-Region header (body first). */
export function namedRegion(body: unknown, header: string | string[] | undefined): string | undefined {
  const inBody = typeof body === "object" && body !== null ? (body as { region?: unknown }).region : undefined;
  if (typeof inBody === "string" && inBody !== "") return inBody;
  const h = Array.isArray(header) ? header[0] : header;
  return h?.trim() || undefined;
}

/**
 * Whether hostd would answer this request in E2B's shape (`{code: <status>, message}`, the
 * message as the reason phrase too): E2B's SDKs read nothing else (outside tester tr: "404:
 * [object Object]", a kill of an unknown id that threw).
 */
export function isE2bRequest(req: http.IncomingMessage): boolean {
  const id = req.headers["e2b-sandbox-id"];
  return servedAsE2b((req.url ?? "/").split("?")[0]!, e2bSandboxOf(Array.isArray(id) ? id[0] : id, req.headers.host));
}
