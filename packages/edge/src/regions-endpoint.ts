// GET /v1/regions: each region's name, health, probe RTT and capacity. Capacity is the
// origin's GET /v1/capacity asked with the caller's own key (a tenant sees its numbers, an
// admin the host's); when every healthy origin refuses the key, so does this endpoint, and when
// none answers (all down) it is 503: the edge holds no keys, so it cannot tell a caller whose key
// no origin has checked anything (it answered such a caller the region list before).
import type http from "node:http";
import { forwardHeaders, sendToOrigin } from "./origin-request.js";
import type { Region, RegionSet } from "./regions.js";
import { retryAfterS, sendEdgeError, sendJson } from "./answer.js";
import { PodflareError } from "@podflare/protocol";
import { FANOUT_DEADLINE_MS, within } from "./within.js";

interface Capacity {
  status: number;
  body: unknown;
}

async function capacityOf(r: Region, req: http.IncomingMessage, connectTimeoutMs: number): Promise<Capacity | undefined> {
  if (!r.healthy) return undefined;
  const headers = forwardHeaders(req.headers, req.socket.remoteAddress);
  delete headers["content-length"];
  const result = await sendToOrigin(r, "GET", "/v1/capacity", headers, undefined, connectTimeoutMs);
  if (result.kind === "failed") return undefined;
  const chunks: Buffer[] = [];
  for await (const c of result.res) chunks.push(c as Buffer);
  try {
    return { status: result.res.statusCode ?? 502, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return undefined;
  }
}

export async function regionsEndpoint(regions: RegionSet, req: http.IncomingMessage, res: http.ServerResponse, connectTimeoutMs: number, probeIntervalMs: number): Promise<number> {
  const caps = await Promise.all(regions.list.map((r) => within(capacityOf(r, req, connectTimeoutMs), FANOUT_DEADLINE_MS)));
  const answered = caps.filter((c): c is Capacity => c !== undefined);
  if (answered.length === 0) {
    const err = new PodflareError("region_unavailable", `no region answered (${regions.list.length} configured, none reachable now), so no key could be checked; retry after ${retryAfterS(probeIntervalMs)} s (Retry-After); the edge's /metrics shows each region's health`, { "retry-after": retryAfterS(probeIntervalMs) });
    sendEdgeError(res, err);
    return err.status;
  }
  const refused = answered.find((c) => c.status === 401 || c.status === 403);
  if (answered.length > 0 && answered.every((c) => c.status === 401 || c.status === 403)) {
    sendJson(res, refused!.status, refused!.body);
    return refused!.status;
  }
  sendJson(res, 200, {
    regions: regions.list.map((r, i) => ({
      name: r.name,
      healthy: r.healthy,
      rtt_ms: r.rttMs === undefined ? null : Number(r.rttMs.toFixed(3)),
      tag: r.tag,
      capacity: caps[i]?.status === 200 ? caps[i]!.body : null,
      ...(r.healthy ? {} : { error: r.error }),
    })),
  });
  return 200;
}
