// The region a create or a Space resume asks for: the body's `region` or the
// X-Podflare-Region header (Podflare's SDKs send `region`; an edge routes on either).
// A hostd serves at most one region, its own name (PODFLARE_REGION); anything else is
// refused with a message that says where the region could come from, never ignored.
import type { IncomingMessage } from "node:http";
import { PodflareError, regionNamePattern } from "@podflare/protocol";

export const regionHeader = "x-podflare-region";
export const regionPattern = regionNamePattern;

function named(value: unknown, where: string): string {
  if (typeof value !== "string" || !regionPattern.test(value)) {
    throw new PodflareError("bad_request", `${where} must be a region name like "us-west" (lowercase letters, digits, "-"), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The region asked for, or undefined; throws 400 on a malformed or contradictory one. */
export function requestedRegion(req: IncomingMessage, body: Record<string, unknown>): string | undefined {
  const inBody = body.region === undefined || body.region === null ? undefined : named(body.region, "region");
  const raw = req.headers[regionHeader];
  const inHeader = raw === undefined ? undefined : named(Array.isArray(raw) ? raw.join(",") : raw.trim(), "the X-Podflare-Region header");
  if (inBody !== undefined && inHeader !== undefined && inBody !== inHeader) {
    throw new PodflareError("bad_request", `region ${JSON.stringify(inBody)} and the X-Podflare-Region header ${JSON.stringify(inHeader)} disagree; send one region`);
  }
  return inBody ?? inHeader;
}

/** Accepts no region or this hostd's own; anything else is 400 region_unknown. */
export function checkRegion(req: IncomingMessage, body: Record<string, unknown>, own: string | undefined): void {
  const want = requestedRegion(req, body);
  if (want === undefined || want === own) return;
  const served = own
    ? `this server serves only region ${JSON.stringify(own)} (PODFLARE_REGION)`
    : "this server has no region name (PODFLARE_REGION is unset)";
  const fix = own
    ? `leave region out, ask for ${JSON.stringify(own)}, or send the request through an edge (podflare edge) whose region map has ${JSON.stringify(want)}`
    : `leave region out, set PODFLARE_REGION=${want} on this hostd if it is that region, or send the request through an edge (podflare edge) whose region map has ${JSON.stringify(want)}`;
  throw new PodflareError("region_unknown", `region ${JSON.stringify(want)} is not served here: ${served}; ${fix}`);
}
