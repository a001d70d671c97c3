// Which way a request goes, from its method and path alone (pure, unit-tested): the edge's
// own endpoints, a create (buffered, may fail over), a call for one sandbox or Space (to the
// region its id's tag names), or anything else (the named or nearest region). Generic: any
// path with an sbx_/spc_ id in it routes by the id, so new routes need no change here.
import { routedIdPattern } from "@podflare/protocol";
import { listField } from "./lists.js";

export type RouteKind =
  | { kind: "own"; name: "regions" | "metrics" | "healthz" }
  | { kind: "create" }
  | { kind: "id"; id: string; tag: string }
  /** GET /v1/sandboxes or /v1/spaces: every region's, merged (unless a region is named). */
  | { kind: "list"; field: string }
  | { kind: "other" };

export function classify(method: string, rawPath: string): RouteKind {
  const path = rawPath.split("?")[0]!;
  if (method === "GET" || method === "HEAD") {
    if (path === "/v1/regions") return { kind: "own", name: "regions" };
    if (path === "/metrics") return { kind: "own", name: "metrics" };
    if (path === "/v1/healthz") return { kind: "own", name: "healthz" };
    if (method === "GET" && path in listField) return { kind: "list", field: listField[path]! };
  }
  if (method === "POST" && (path === "/v1/sandboxes" || path === "/v1/sandboxes/")) return { kind: "create" };
  for (const seg of path.split("/")) {
    if (routedIdPattern.test(seg)) return { kind: "id", id: seg, tag: seg.slice(4, 8) };
  }
  return { kind: "other" };
}

/** The region named by the create body's `region` or the X-Podflare-Region header (body first). */
export function namedRegion(body: unknown, header: string | string[] | undefined): string | undefined {
  const inBody = typeof body === "object" && body !== null ? (body as { region?: unknown }).region : undefined;
  if (typeof inBody === "string" && inBody !== "") return inBody;
  const h = Array.isArray(header) ? header[0] : header;
  return h?.trim() || undefined;
}
