// Egress policy of one sandbox: validation of the API's `network` field and its nftables
// rendering (pure; sandbox-rules.ts applies it in the router namespace).
//
// Semantics: `deny_out` always wins; without `allow_out` everything else is allowed; with it
// only the listed destinations are (an empty list allows nothing but DNS). Entries are IPv4
// addresses or CIDRs, or domain names — a name also covers its subdomains, and is turned into
// addresses by the DNS forwarder when the sandbox looks it up.
import { PodflareError } from "@podflare/protocol";
import { formatCidr, parseCidr } from "./addresses.js";

export interface NetworkPolicyWire {
  allow_out?: string[] | null;
  deny_out?: string[] | null;
}

export interface EgressPolicy {
  /** null: everything not denied is allowed. */
  allowCidrs: string[] | null;
  allowDomains: string[];
  denyCidrs: string[];
  denyDomains: string[];
}

export const OPEN_POLICY: EgressPolicy = { allowCidrs: null, allowDomains: [], denyCidrs: [], denyDomains: [] };

const MAX_ENTRIES = 256;
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Parses the API's `network` object; throws bad_request naming the offending entry. */
export function parsePolicy(raw: unknown): EgressPolicy {
  if (raw === undefined || raw === null) return OPEN_POLICY;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw bad("network must be an object like {\"allow_out\": [\"10.0.0.0/8\", \"pypi.org\"], \"deny_out\": []}");
  }
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (k !== "allow_out" && k !== "deny_out") throw bad(`network has an unknown field ${JSON.stringify(k)}; use allow_out and deny_out`);
  }
  const allow = entries(obj.allow_out, "allow_out");
  const deny = entries(obj.deny_out, "deny_out") ?? { cidrs: [], domains: [] };
  return {
    allowCidrs: allow ? allow.cidrs : null,
    allowDomains: allow ? allow.domains : [],
    denyCidrs: deny.cidrs,
    denyDomains: deny.domains,
  };
}

/** True if the policy lets everything out (no allow list, nothing denied). */
export function isOpen(p: EgressPolicy): boolean {
  return p.allowCidrs === null && p.allowDomains.length === 0 && p.denyCidrs.length === 0 && p.denyDomains.length === 0;
}

export function policyToWire(p: EgressPolicy): { allow_out: string[] | null; deny_out: string[] } {
  return {
    allow_out: p.allowCidrs === null ? null : [...p.allowCidrs, ...p.allowDomains],
    deny_out: [...p.denyCidrs, ...p.denyDomains],
  };
}

function entries(v: unknown, field: string): { cidrs: string[]; domains: string[] } | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw bad(`network.${field} must be a list of CIDRs or domain names`);
  if (v.length > MAX_ENTRIES) throw bad(`network.${field} has ${v.length} entries; at most ${MAX_ENTRIES}`);
  const cidrs = new Set<string>();
  const domains = new Set<string>();
  for (const e of v) {
    if (typeof e !== "string" || e === "") throw bad(`network.${field} entries must be non-empty strings`);
    const s = e.trim().toLowerCase().replace(/\.$/, "");
    if (/^[\d./]+$/.test(s)) {
      try {
        cidrs.add(formatCidr(parseCidr(s)));
      } catch (err) {
        throw bad(`network.${field}: ${(err as Error).message}`);
      }
    } else if (s.includes(":")) {
      throw bad(`network.${field}: ${JSON.stringify(e)} — sandboxes have IPv4 only; give IPv4 CIDRs or domain names (ports are not part of a policy)`);
    } else if (DOMAIN_RE.test(s)) {
      domains.add(s);
    } else {
      throw bad(`network.${field}: ${JSON.stringify(e)} is neither an IPv4 address/CIDR nor a domain name`);
    }
  }
  return { cidrs: [...cidrs], domains: [...domains] };
}

function bad(msg: string): PodflareError {
  return new PodflareError("bad_request", msg);
}

/** True if `name` is `domain` or one of its subdomains. */
export function domainMatches(name: string, domain: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n === domain || n.endsWith(`.${domain}`);
}

/** nftables names for one sandbox's chain and learned-address sets. */
export function chainNames(key: string): { chain: string; allowSet: string; denySet: string } {
  const k = key.replace(/[^A-Za-z0-9_]/g, "_");
  return { chain: `sb_${k}`, allowSet: `sa_${k}`, denySet: `sd_${k}` };
}

const REJECT = "reject with icmpx type admin-prohibited";

/**
 * nft commands (for `nft -f -`) that (re)define a sandbox's policy chain atomically: the chain
 * is flushed and refilled, and addresses learned from DNS for the old policy are dropped.
 */
export function renderPolicy(table: string, key: string, p: EgressPolicy): string {
  const { chain, allowSet, denySet } = chainNames(key);
  const lines = [
    `add chain ${table} ${chain}`,
    `add set ${table} ${allowSet} { type ipv4_addr; flags timeout; }`,
    `add set ${table} ${denySet} { type ipv4_addr; flags timeout; }`,
    `flush chain ${table} ${chain}`,
    `flush set ${table} ${allowSet}`,
    `flush set ${table} ${denySet}`,
  ];
  if (p.denyCidrs.length) lines.push(`add rule ${table} ${chain} ip daddr { ${p.denyCidrs.join(", ")} } ${REJECT}`);
  lines.push(`add rule ${table} ${chain} ip daddr @${denySet} ${REJECT}`);
  if (p.allowCidrs === null) {
    lines.push(`add rule ${table} ${chain} accept`);
  } else {
    if (p.allowCidrs.length) lines.push(`add rule ${table} ${chain} ip daddr { ${p.allowCidrs.join(", ")} } accept`);
    lines.push(`add rule ${table} ${chain} ip daddr @${allowSet} accept`);
    lines.push(`add rule ${table} ${chain} ${REJECT}`);
  }
  return lines.join("\n") + "\n";
}

/** nft commands removing a sandbox's chain and sets (after its map entry is gone). */
export function renderPolicyRemoval(table: string, key: string): string {
  const { chain, allowSet, denySet } = chainNames(key);
  return [`delete chain ${table} ${chain}`, `delete set ${table} ${allowSet}`, `delete set ${table} ${denySet}`].join("\n") + "\n";
}
