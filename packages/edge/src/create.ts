// Creates: the one request the edge buffers (small, bounded) so that it can try the next
// region. The rule (docs/edge.md, "Failover"):
//   - a connection error before the request was fully sent: the origin cannot have read it,
//     so the next healthy region gets it;
//   - an answer 5xx: the origin did not create (hostd undoes a failed create), next region;
//   - an answer 2xx or 4xx: accepted (or refused for good), relayed as is, never retried;
//   - the connection breaking after the request was fully sent, before any answer: the origin
//     may have created a sandbox, so the edge does not send it again; it answers 502
//     upstream_error naming the region, so the caller can look (GET /v1/sandboxes) first.
// A create that names its region goes there only: no failover to a region not asked for.
import type http from "node:http";
import { PodflareError } from "@podflare/protocol";
import { forwardHeaders, sendToOrigin, type OriginResult } from "./origin-request.js";
import { relay } from "./forward.js";
import { namedRegion } from "./route.js";
import type { Region, RegionSet } from "./regions.js";
import { retryAfterS } from "./answer.js";
import { malformedRegion } from "./choose-region.js";

export interface CreateOptions {
  connectTimeoutMs: number;
  maxBodyBytes: number;
  probeIntervalMs: number;
  onFailover(from: Region, reason: string): void;
}

function readBounded(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > max) {
        // The rest is read and dropped, so the caller gets the 413 rather than a reset.
        req.off("data", onData);
        req.resume();
        reject(new PodflareError("payload_too_large", `a create body over ${max} bytes is not accepted by the edge; send env and metadata smaller, or upload files after the create`));
        return;
      }
      parts.push(c);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * What a create's try that failed before any answer leads to: the error to answer, or
 * undefined to try the next region (the region has been marked down by `markDown`). The rule of
 * the opening comment, for both the node:http path and the fast path (front/create-flow.ts).
 */
export function afterFailedTry(
  r: Region,
  failure: { sent: boolean; reason: string },
  named: boolean,
  more: boolean,
  markDown: (r: Region, reason: string) => void,
  probeIntervalMs: number,
): PodflareError | undefined {
  if (failure.sent) {
    return new PodflareError("upstream_error", `region ${r.name} received the create but the connection broke before it answered (${failure.reason}); it may have made the sandbox: list sandboxes (GET /v1/sandboxes with X-Podflare-Region: ${r.name}) before creating again`);
  }
  markDown(r, `create: ${failure.reason}`);
  const retry = { "retry-after": retryAfterS(probeIntervalMs) };
  if (named) return new PodflareError("region_unavailable", `region ${r.name} cannot be reached (${failure.reason}); retry later, or leave region out to create in the nearest healthy region`, retry);
  if (!more) return new PodflareError("unavailable", `no region could take the create (last: ${r.name}: ${failure.reason}); retry later`, retry);
  return undefined;
}

const BACKSLASH = 0x5c;
const REGION_KEY = Buffer.from('"region"');

export function parseMaybe(body: Buffer): unknown {
  // Only `region` is read from the body: one that cannot hold that key is not parsed (a key
  // spelled with escapes has a backslash).
  if (body.indexOf(BACKSLASH) === -1 && body.indexOf(REGION_KEY) === -1) return {};
  try {
    return body.length ? JSON.parse(body.toString("utf8")) : {};
  } catch {
    return undefined; // not JSON: the origin answers 400 invalid_json with its own message
  }
}

/** Which regions to try, in order; throws the answer when there is none. */
export function candidates(regions: RegionSet, named: string | undefined, probeIntervalMs: number): Region[] {
  if (named !== undefined) {
    malformedRegion(named, "region");
    const r = regions.byName(named);
    if (!r) {
      throw new PodflareError("region_unknown", `region ${JSON.stringify(named)} is not served by this edge; GET /v1/regions with your key lists those it serves, or leave region out for the nearest`);
    }
    if (!r.healthy) {
      throw new PodflareError("region_unavailable", `region ${r.name} is down (${r.error}); retry later, or leave region out to create in the nearest healthy region`, { "retry-after": retryAfterS(probeIntervalMs) });
    }
    return [r];
  }
  const list = regions.nearest();
  if (list.length === 0) {
    throw new PodflareError("unavailable", `no region is healthy right now (${regions.list.map((r) => `${r.name}: ${r.error}`).join("; ")}); retry later`, { "retry-after": retryAfterS(probeIntervalMs) });
  }
  return list;
}

/** Creates through the edge; resolves with the region and status answered. */
export async function createThroughEdge(req: http.IncomingMessage, res: http.ServerResponse, regions: RegionSet, opts: CreateOptions): Promise<{ region: string; status: number }> {
  const body = await readBounded(req, opts.maxBodyBytes);
  const named = namedRegion(parseMaybe(body), req.headers["x-podflare-region"]);
  const list = candidates(regions, named, opts.probeIntervalMs);
  const headers = forwardHeaders(req.headers, req.socket.remoteAddress);
  delete headers["transfer-encoding"];
  headers["content-length"] = String(body.length);
  let last: Extract<OriginResult, { kind: "answer" }> | undefined;
  let lastRegion = list[0]!;
  for (const [i, r] of list.entries()) {
    const result = await sendToOrigin(r, "POST", req.url ?? "/v1/sandboxes", headers, body, opts.connectTimeoutMs);
    const more = i < list.length - 1;
    if (result.kind === "failed") {
      const answer = afterFailedTry(r, result, named !== undefined, more, (x, why) => x.markDown(why), opts.probeIntervalMs);
      if (answer) throw answer;
      opts.onFailover(r, result.reason);
      continue;
    }
    const status = result.res.statusCode ?? 502;
    if (status >= 500 && more) {
      result.res.resume();
      opts.onFailover(r, `answered ${status}`);
      last = undefined;
      continue;
    }
    last = result;
    lastRegion = r;
    break;
  }
  relay(last!, res);
  return { region: lastRegion.name, status: last!.res.statusCode ?? 502 };
}
