// The drift check: reads the router's rules, links and routes (one `nft -j` call, one `ip`
// call) and puts back what the attached sandboxes miss, in one batch; a sandbox whose link is
// gone gets a new one. The periodic check (all sandboxes) also removes what belongs to none:
// links, routes, elements, chains, sets and addresses. What counts as drift: drift.ts (pure).
// The caller holds the sandboxes' locks (network-service.ts), so nothing changes meanwhile.
import { ipBatch, nft, run } from "./commands.js";
import { parseTable, planRepair, planStaleRemoval, type AttachedSandbox, type TableState } from "./drift.js";
import type { Ipam } from "./ipam.js";
import type { EgressPolicy } from "./policy.js";
import type { Router } from "./router.js";
import { ROUTER_TABLE } from "./rulesets.js";
import { ignoreMissing, linkName, routerLinksAndRoutes } from "./sandbox-links.js";

/** A sandbox init, whose network namespace gets the link; the start time guards pid reuse. */
export interface SandboxInitRef {
  pid: number;
  startTime: string;
}

export interface DriftCheckDeps {
  router: Router;
  ipam: Ipam;
  /** Attached sandboxes' policies and inits (NetworkService's). */
  policies: ReadonlyMap<string, EgressPolicy>;
  inits: ReadonlyMap<string, SandboxInitRef>;
  /** Gives a sandbox whose link is gone a new one. */
  restore(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<void>;
  refreshHostNets(): Promise<void>;
  /** Whether state of no attached sandbox may be removed (false until hostd re-adopted its own). */
  removeStale: boolean;
  /** Keys whose rules are already queued for removal. */
  removing(): Set<string>;
  log(msg: string): void;
}

/** Repairs drift of the attached sandboxes (all, or `keys`); returns the keys repaired. */
export async function checkDriftNow(d: DriftCheckDeps, keys?: string[]): Promise<string[]> {
  const netns = d.router.netns;
  const wanted = keys ?? [...d.policies.keys()];
  const [table, hostTable, { links, routes }] = await Promise.all([
    run(["nsenter", `--net=/run/netns/${netns}`, "nft", "-j", "list", "table", ROUTER_TABLE]).then(parseTable, () => null),
    keys ? Promise.resolve(undefined) : run(["nft", "-j", "list", "table", d.router.hostTable]).then(parseTable, () => null),
    routerLinksAndRoutes(netns),
  ]);
  const base = d.router.baseCounts();
  const repaired = new Set<string>();
  if (hostTable !== undefined && (hostTable === null || [...base.host].some(([c, n]) => hostTable.chains.get(c) !== n))) {
    d.log("network: the host's rules for the sandbox network drifted; reloading them");
    await d.router.loadHostRules();
  }
  // Taken after the reads: a sandbox detached meanwhile is not "repaired" back.
  const attached: AttachedSandbox[] = [];
  const relink: string[] = [];
  for (const key of wanted) {
    const policy = d.policies.get(key);
    const ip = d.ipam.addressOf(key);
    if (!policy || !ip) continue;
    const link = linkName(key);
    if (!links.has(link)) relink.push(key);
    else attached.push({ key, link, ip, policy });
  }
  const plan = planRepair(table, base.router, attached);
  if (plan.reload) {
    d.log("network: the router's rule set drifted; reloading it and every sandbox's rules");
    await d.router.loadRouterRules();
    const all = planRepair(null, base.router, [...d.policies].flatMap(([key, policy]) => {
      const ip = d.ipam.addressOf(key);
      return ip && links.has(linkName(key)) ? [{ key, link: linkName(key), ip, policy }] : [];
    }));
    if (all.script) await nft(netns, all.script);
    all.repaired.forEach((k) => repaired.add(k));
  } else if (plan.script) {
    await nft(netns, plan.script);
    plan.repaired.forEach((k) => repaired.add(k));
  }
  const missingRoutes = attached.filter((a) => !routes.has(`${a.ip} ${a.link}`));
  if (missingRoutes.length) {
    await ipBatch(netns, missingRoutes.map((a) => `route replace ${a.ip}/32 dev ${a.link}`));
    missingRoutes.forEach((a) => repaired.add(a.key));
  }
  for (const key of relink) {
    const init = d.inits.get(key);
    const policy = d.policies.get(key);
    if (!init || !policy) continue;
    await d.restore(key, init, policy).then(
      () => repaired.add(key),
      (e: Error) => d.log(`network: could not give ${key} its link back: ${e.message}`),
    );
  }
  if (repaired.size) d.log(`network: repaired drifted rules or links of ${[...repaired].join(", ")}`);
  if (!keys && d.removeStale) await removeStale(d, plan.reload ? null : table, links, routes);
  if (!keys) await d.refreshHostNets();
  return [...repaired];
}

/**
 * Removes router state and addresses of no attached sandbox (a sandbox closed while a change
 * failed half-way, a removal batch that failed): left alone, a stale route or address makes
 * the next sandbox given that address fail to attach.
 */
async function removeStale(d: DriftCheckDeps, table: TableState | null, links: Set<string>, routes: Set<string>): Promise<void> {
  const netns = d.router.netns;
  const attached = [...d.policies.keys()].flatMap((key) => {
    const ip = d.ipam.addressOf(key);
    return ip ? [{ key, link: linkName(key), ip }] : [];
  });
  const ipOf = new Map(attached.map((a) => [a.link, a.ip]));
  const found: string[] = [];
  const script = table ? planStaleRemoval(table, attached, d.removing()) : [];
  if (script.length) {
    // One batch is atomic: if a piece is already gone, remove the rest one by one.
    await nft(netns, script.join("\n") + "\n").catch(async () => {
      for (const line of script) await nft(netns, line + "\n").catch(() => undefined);
    });
    found.push(`${script.length} nftables element(s)/chain(s)/set(s)`);
  }
  const staleLinks = [...links].filter((l) => !ipOf.has(l));
  for (const link of staleLinks) await ipBatch(netns, [`link del ${link}`]).catch(ignoreMissing);
  const staleRoutes = [...routes].map((r) => r.split(" ") as [string, string]).filter(([dst, dev]) => ipOf.has(dev) && ipOf.get(dev) !== dst);
  for (const [dst, dev] of staleRoutes) await ipBatch(netns, [`route del ${dst}/32 dev ${dev}`]).catch(ignoreMissing);
  const staleAddresses = [...d.ipam.entries().keys()].filter((key) => !d.policies.has(key));
  for (const key of staleAddresses) d.ipam.release(key);
  if (staleLinks.length) found.push(`link(s) ${staleLinks.join(", ")}`);
  if (staleRoutes.length) found.push(`route(s) ${staleRoutes.map(([dst, dev]) => `${dst} dev ${dev}`).join(", ")}`);
  if (staleAddresses.length) found.push(`the address(es) of ${staleAddresses.join(", ")}`);
  if (found.length) d.log(`network: removed state of no live sandbox: ${found.join("; ")}`);
}
