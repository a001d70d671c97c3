// Drift between hostd's sandboxes and the router's nftables state (pure: drift-check.ts
// reads the state in one `nft -j list table` call and applies the repair in one batch).
// What is checked: the base chains' rule counts, each attached sandbox's `bound` element,
// `egress` map entry and policy chain (its rule count). Anything missing is put back; elements,
// chains and sets that belong to no attached sandbox are removed.
import { chainNames, renderPolicy, type EgressPolicy } from "./policy.js";
import { ROUTER_TABLE } from "./rulesets.js";
import { linkName } from "./sandbox-links.js";

export interface TableState {
  /** Rule count per chain name. */
  chains: Map<string, number>;
  /** "link ip" of each `bound` element. */
  bound: Set<string>;
  /** link -> jumped-to chain of each `egress` element. */
  egress: Map<string, string>;
  /** Names of the table's sets and maps. */
  sets: Set<string>;
}

export interface AttachedSandbox {
  key: string;
  link: string;
  ip: string;
  policy: EgressPolicy;
}

export interface Repair {
  /** The table is gone or a base chain differs: reload the whole rule set, then `script`. */
  reload: boolean;
  /** nft commands putting back what is missing (empty: nothing drifted). */
  script: string;
  /** Keys of the sandboxes whose rules were (or are about to be) put back. */
  repaired: string[];
}

type NftObject = Record<string, Record<string, unknown>>;

/** Parses `nft -j list table …`; null when the output has no table. */
export function parseTable(json: string): TableState | null {
  const items = (JSON.parse(json) as { nftables?: NftObject[] }).nftables ?? [];
  if (!items.some((i) => i.table)) return null;
  const state: TableState = { chains: new Map(), bound: new Set(), egress: new Map(), sets: new Set() };
  for (const item of items) {
    if (item.chain) state.chains.set(item.chain.name as string, state.chains.get(item.chain.name as string) ?? 0);
    if (item.rule) {
      const c = item.rule.chain as string;
      state.chains.set(c, (state.chains.get(c) ?? 0) + 1);
    }
    if (item.set) state.sets.add(item.set.name as string);
    if (item.set?.name === "bound") {
      for (const e of (item.set.elem as unknown[]) ?? []) {
        const parts = (e as { concat?: unknown[] }).concat ?? ((e as { elem?: { val?: { concat?: unknown[] } } }).elem?.val?.concat);
        if (parts) state.bound.add(`${String(parts[0])} ${String(parts[1])}`);
      }
    }
    if (item.map?.name === "egress") {
      for (const e of (item.map.elem as unknown[]) ?? []) {
        const [link, verdict] = e as [unknown, { jump?: { target?: string } }];
        const name = typeof link === "string" ? link : String((link as { elem?: { val?: unknown } }).elem?.val);
        if (verdict?.jump?.target) state.egress.set(name, verdict.jump.target);
      }
    }
  }
  return state;
}

function policyRuleCount(key: string, p: EgressPolicy): number {
  return renderPolicy(ROUTER_TABLE, key, p).split("\n").filter((l) => l.startsWith("add rule ")).length;
}

/** What to do so that every sandbox in `attached` has its rules again. */
export function planRepair(state: TableState | null, base: Map<string, number>, attached: AttachedSandbox[]): Repair {
  const reload = state === null || [...base].some(([chain, n]) => state.chains.get(chain) !== n);
  const lines: string[] = [];
  const repaired: string[] = [];
  for (const sb of attached) {
    const { chain } = chainNames(sb.key);
    const fix: string[] = [];
    if (reload || state.chains.get(chain) !== policyRuleCount(sb.key, sb.policy)) {
      fix.push(...renderPolicy(ROUTER_TABLE, sb.key, sb.policy).split("\n").filter(Boolean));
    }
    if (reload || !state.bound.has(`${sb.link} ${sb.ip}`)) fix.push(`add element ${ROUTER_TABLE} bound { "${sb.link}" . ${sb.ip} }`);
    const target = reload ? undefined : state.egress.get(sb.link);
    if (target !== chain) {
      if (target !== undefined) fix.push(`delete element ${ROUTER_TABLE} egress { "${sb.link}" }`);
      fix.push(`add element ${ROUTER_TABLE} egress { "${sb.link}" : jump ${chain} }`);
    }
    if (fix.length) {
      lines.push(...fix);
      repaired.push(sb.key);
    }
  }
  return { reload, script: lines.length ? lines.join("\n") + "\n" : "", repaired };
}

/** Per-sandbox chains and sets: sb_<key>, sa_<key>, sd_<key> (policy.ts). */
const PER_SANDBOX = /^s[bad]_(.+)$/;

/**
 * nft commands removing what belongs to no attached sandbox: `bound` elements and `egress`
 * entries of other links (or of another address), and policy chains and learned sets of other
 * keys. `keep`: keys whose removal is already queued. Map entries go before the chains they jump to.
 */
export function planStaleRemoval(state: TableState, attached: { key: string; link: string; ip: string }[], keep: Set<string>): string[] {
  const ipOf = new Map(attached.map((a) => [a.link, a.ip]));
  const keptLinks = new Set([...keep].map((k) => linkName(k)));
  const keys = new Set([...attached.map((a) => a.key), ...keep].map((k) => chainNames(k).chain.slice(3)));
  const lines: string[] = [];
  for (const [link] of state.egress) {
    if (!ipOf.has(link) && !keptLinks.has(link)) lines.push(`delete element ${ROUTER_TABLE} egress { "${link}" }`);
  }
  for (const el of state.bound) {
    const [link, ip] = el.split(" ");
    if (ipOf.get(link!) !== ip && !keptLinks.has(link!)) lines.push(`delete element ${ROUTER_TABLE} bound { "${link}" . ${ip} }`);
  }
  for (const chain of state.chains.keys()) {
    const m = PER_SANDBOX.exec(chain);
    if (m && chain.startsWith("sb_") && !keys.has(m[1]!)) lines.push(`delete chain ${ROUTER_TABLE} ${chain}`);
  }
  for (const set of state.sets) {
    const m = PER_SANDBOX.exec(set);
    if (m && !set.startsWith("sb_") && !keys.has(m[1]!)) lines.push(`delete set ${ROUTER_TABLE} ${set}`);
  }
  return lines;
}
