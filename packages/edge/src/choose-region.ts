// Which region a request that is not a create goes to, and the answers when it cannot: shared
// by the front's fast path (front/) and the node:http path (server.ts), so both route alike.
import { PodflareError, regionNamePattern } from "@podflare/protocol";
import { retryAfterS } from "./answer.js";
import type { Region, RegionSet } from "./regions.js";
import type { RouteKind } from "./route.js";

export interface RegionChooser {
  /** The id's region, else the named (X-Podflare-Region), else the nearest; throws the answer. */
  target(route: RouteKind, regionHeader: string | string[] | undefined): Region;
  /** A forwarded request could not reach the region: marked down (logged once), and the 503 to answer. */
  down(r: Region, reason: string): PodflareError;
  /**
   * A connection made to the region broke before its answer: the 502 to answer. One broken
   * connection is not an outage (an origin closing an idle connection, a restart): the region
   * stays up, and its probes decide.
   */
  broken(r: Region, reason: string): PodflareError;
}

/** A request that can go again, once, on a new connection when a reused one broke before any answer. */
export function replayable(method: string, hasBody: boolean): boolean {
  return !hasBody && (method === "GET" || method === "HEAD" || method === "OPTIONS");
}

export function regionChooser(regions: RegionSet, probeIntervalMs: number, log: (msg: string) => void): RegionChooser {
  const retry = (): Record<string, string> => ({ "retry-after": retryAfterS(probeIntervalMs) });
  const unavailable = (r: Region): PodflareError =>
    new PodflareError("region_unavailable", `region ${r.name} cannot be reached (${r.error}); retry after ${retryAfterS(probeIntervalMs)} s (Retry-After); other regions are unaffected`, retry());

  return {
    target(route, regionHeader) {
      if (route.kind === "id") {
        const r = regions.byTag(route.tag);
        if (!r) {
          // Not the regions' names and tags: the caller's key has not been checked here.
          const what = route.id.startsWith("spc_") ? "space_not_found" : route.id.startsWith("mcp_") ? "mcp_session_not_found" : "sandbox_not_found";
          throw new PodflareError(what, `${route.id} not found: no region of this edge makes ids starting ${route.id.slice(0, 8)}`);
        }
        if (!r.healthy) throw unavailable(r);
        return r;
      }
      const name = (Array.isArray(regionHeader) ? regionHeader[0] : regionHeader)?.trim();
      if (name) {
        malformedRegion(name, "the X-Podflare-Region header");
        const r = regions.byName(name);
        if (!r) throw new PodflareError("region_unknown", `region ${JSON.stringify(name)} (X-Podflare-Region) is not served by this edge; GET /v1/regions with your key lists those it serves`);
        if (!r.healthy) throw unavailable(r);
        return r;
      }
      const r = regions.nearest()[0];
      if (!r) throw new PodflareError("unavailable", "no region is healthy right now; retry later", retry());
      return r;
    },
    down(r, reason) {
      if (r.healthy) log(`region ${r.name} (${r.url.host}) is down: ${reason} (from a forwarded request)`);
      r.markDown(reason);
      return unavailable(r);
    },
    broken(r, reason) {
      return new PodflareError("upstream_error", `the connection to region ${r.name} broke before it answered (${reason}); the call may have run there: check its effect before repeating it`);
    },
  };
}

/** A region name hostd would refuse as malformed is 400 bad_request here too, not region_unknown. */
export function malformedRegion(name: string, where: string): void {
  if (!regionNamePattern.test(name)) {
    throw new PodflareError("bad_request", `${where} must be a region name like "us-west" (lowercase letters, digits, "-"), got ${JSON.stringify(name)}`);
  }
}
