// Where a request goes, from its head alone (the Plan of exchange.ts): straight to a region's
// hostd, through the create flow, or to the edge's own server.
import { PodflareError } from "@podflare/protocol";
import type { RegionChooser } from "../choose-region.js";
import { classify } from "../route.js";
import type { Plan } from "./exchange.js";
import type { RequestFacts } from "./heads.js";
import type { ParsedHead } from "./llhttp.js";

const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|$)/i;

export function planFor(h: ParsedHead, facts: RequestFacts, chooser: RegionChooser): Plan {
  // As hostd (node:http) answers it; an HTTP/1.0 request without Host gets the edge's own.
  if (facts.hostMissing && h.versionMinor >= 1) return { to: "refuse", err: new PodflareError("bad_request", "an HTTP/1.1 request needs a Host header") };
  // A dot segment would route by one id and reach another once the origin resolves it (tester tr).
  if (DOT_SEGMENT.test(h.url.split("?")[0]!)) return { to: "refuse", err: new PodflareError("bad_request", "the path has a . or .. segment; send it resolved") };
  if (h.upgrade) return { to: "splice" };
  // Only origin-form targets go straight on (the edge is not a general proxy); the edge's
  // own server answers the rest with its error.
  if (!h.url.startsWith("/") || h.url.startsWith("//")) return { to: "inner" };
  const route = classify(h.method, h.url, facts.e2bSandbox, facts.mcpSession);
  if (route.kind === "create") return { to: "create" };
  if (route.kind === "own" || (route.kind === "list" && facts.regionHeader === undefined)) return { to: "inner" };
  try {
    return { to: "origin", region: chooser.target(route, facts.regionHeader), kind: route.kind };
  } catch {
    return { to: "inner" }; // an unknown tag, a region down: the edge's server answers it
  }
}
