// E2B's egress policy in ours. E2B: an address is let out if it is in `allowOut` or not in
// `denyOut` (allowed entries take precedence), domains in `allowOut` filter only with
// ALL_TRAFFIC (0.0.0.0/0) denied, `denyOut` holds no domains, and `allowInternetAccess: false`
// is `denyOut: [ALL_TRAFFIC]`. Ours (docs/network.md): `deny_out` always wins, and `allow_out`,
// when given, is all that may go out. So "deny everything but" becomes an allow list, and a
// partial deny list stays a deny list; an allowed exception inside a denied range has no
// equivalent here and is refused rather than turned into the opposite.
import { isIpv4, overlaps, parseCidr, type Cidr } from "../network/addresses.js";
import { E2bError, unsupported } from "./envelope.js";

export interface OurNetwork {
  egress?: boolean;
  network?: { allow_out: string[] | null; deny_out: string[] };
}

/** From E2B's `allow_internet_access` and `network.allowOut/denyOut` (already known to be given or not). */
export function e2bNetworkToOurs(allowInternetAccess: unknown, allowOut: unknown, denyOut: unknown): OurNetwork {
  const allow = list(allowOut, "network.allowOut")?.map(unwildcard);
  const deny = list(denyOut, "network.denyOut");
  const denyAll = allowInternetAccess === false || (deny ?? []).some(isAllTraffic);
  if (denyAll) {
    // Nothing out but what allowOut names; with no allowOut, no egress at all.
    if (!allow || allow.length === 0) return { egress: false };
    return { egress: true, network: { allow_out: allow, deny_out: [] } };
  }
  const out: OurNetwork = typeof allowInternetAccess === "boolean" ? { egress: allowInternetAccess } : {};
  if (!deny || deny.length === 0) return out; // allowOut alone restricts nothing on E2B
  for (const a of allow ?? []) {
    const inside = deny.find((d) => covers(d, a));
    if (inside) {
      throw unsupported(
        `network.allowOut ${JSON.stringify(a)} inside denyOut ${JSON.stringify(inside)} (an exception to a deny list)`,
      );
    }
  }
  return { ...out, network: { allow_out: null, deny_out: deny } };
}

function list(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((e) => typeof e !== "string")) throw new E2bError(400, `${field} must be a list of strings`);
  return v as string[];
}

const isAllTraffic = (e: string): boolean => cidrOf(e)?.prefix === 0;

/** E2B's "*.example.com" (its subdomains); ours names a domain and its subdomains. */
const unwildcard = (e: string): string => (e.startsWith("*.") ? e.slice(2) : e);

function cidrOf(e: string): Cidr | null {
  const s = e.trim();
  const ip = s.split("/")[0]!;
  if (!isIpv4(ip)) return null;
  try {
    return parseCidr(s);
  } catch {
    return null;
  }
}

/** Whether an allowed entry would be an exception to a denied one (their ranges meet). */
function covers(denied: string, allowed: string): boolean {
  const d = cidrOf(denied);
  const a = cidrOf(allowed);
  if (!d || !a) return false; // E2B denies no domains; an allowed domain is no exception to a range
  return overlaps(d, a);
}
