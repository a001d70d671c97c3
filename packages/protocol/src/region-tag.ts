// Region tags: how an edge finds a sandbox's or Space's region from its id alone.
// An id is `sbx_` (or `spc_`) and 32 hex digits; a hostd with a region puts its 4-hex-digit
// tag first and 28 random digits (112 bits) after, so ids stay unguessable and keep their
// shape. The tag is PODFLARE_REGION_TAG, else derived from the region name (regionTagFor),
// so an edge and its origins agree without configuration. docs/edge.md.
import crypto from "node:crypto";

export const regionTagPattern = /^[0-9a-f]{4}$/;
/** A region's name (PODFLARE_REGION, a create's `region`, X-Podflare-Region). */
export const regionNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Ids an edge routes: sandboxes and Spaces. */
export const routedIdPattern = /^(?:sbx|spc)_[0-9a-f]{32}$/;
/** MCP session ids (the Mcp-Session-Id header): tagged the same way, so a session stays in its region. */
export const mcpSessionIdPattern = /^mcp_[0-9a-f]{32}$/;

/** The tag a region name gets unless PODFLARE_REGION_TAG sets one: sha256's first 4 hex digits. */
export function regionTagFor(region: string): string {
  return crypto.createHash("sha256").update(`podflare-region:${region}`).digest("hex").slice(0, 4);
}

/** A fresh id: prefix, the tag (if any), random hex to 32 digits. */
export function newTaggedId(prefix: "sbx" | "spc" | "mcp", tag: string | undefined): string {
  const rand = crypto.randomBytes(16).toString("hex");
  return `${prefix}_${tag ? tag + rand.slice(tag.length) : rand}`;
}

/** The region tag inside a routed id, or undefined for anything else. */
export function tagOfId(id: string): string | undefined {
  return routedIdPattern.test(id) ? id.slice(4, 8) : undefined;
}
