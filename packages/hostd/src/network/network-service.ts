// Sandbox networking (DESIGN §8, docs/network.md): the router namespace, one routed veth link
// per sandbox with egress, addresses from IPAM, per-sandbox egress policy in nftables, and the
// DNS forwarder. Runtimes call attach/detach with the sandbox init's pid (its network
// namespace); the manager changes policies.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../store/store.js";
import { configureGuestLinks } from "../jail/netcfg.js";
import { ipBatch, ipBatchInPid, nft, run, NetworkCommandError } from "./commands.js";
import type { DnsMessage, DnsPolicy } from "./dns-types.js";
import { Ipam } from "./ipam.js";
import { chainNames, renderPolicy, renderPolicyRemoval, type EgressPolicy } from "./policy.js";
import { Router, routerNames, teardownRouter } from "./router.js";
import { renderHostNets, ROUTER_TABLE, SANDBOX_LINK_PREFIX } from "./rulesets.js";
import { parseTable, planRepair, type AttachedSandbox } from "./drift.js";
import { readConnectedSubnets } from "./host-subnets.js";
import { DnsForwarder } from "./dns-forwarder.js";
import { formatCidr, type AddressPlan } from "./addresses.js";

export interface NetworkConfig {
  /** PODFLARE_NET_CIDR: the block sandboxes get addresses from; chosen when absent. */
  cidr?: string;
  deniedCidrs: string[];
  gatewayTcpPorts: number[];
  dnsStatic: Record<string, string[]>;
  /** Upstream resolvers of the DNS forwarder; empty: only the static map answers. */
  dnsUpstream: string[];
  /** PODFLARE_DNS_QPS: DNS queries per second each sandbox may send. */
  dnsQps: number;
  /** PODFLARE_NET_RECONCILE_MS: how often the router's rules are checked against the sandboxes. */
  reconcileMs: number;
  /** Deny the host's own connected subnets too (with the default deny list). */
  denyHostSubnets: boolean;
}

/** A sandbox init, whose network namespace gets the link; the start time guards pid reuse. */
export interface SandboxInitRef {
  pid: number;
  startTime: string;
}

export interface NetworkServiceOptions extends NetworkConfig {
  cgroupParent: string;
  /** Holds the DNS forwarder's pid file. */
  stateDir: string;
  /** Where addresses and the chosen CIDR are kept across restarts. */
  store: Pick<Store, "addresses" | "netMeta">;
  log: (msg: string) => void;
}

const DNS_PID_FILE = "dns-forwarder.pid";
const CLEANUP_DELAY_MS = 250;

/** The router-side name of a sandbox's link: pfs + 10 hex digits of its key's hash. */
export function linkName(key: string): string {
  return SANDBOX_LINK_PREFIX + crypto.createHash("sha256").update(key).digest("hex").slice(0, 10);
}

export class NetworkService {
  private dns: DnsForwarder | null = null;
  private readonly policies = new Map<string, EgressPolicy>();
  /** Inits of attached sandboxes: a link found missing is made again in their namespace. */
  private readonly inits = new Map<string, SandboxInitRef>();
  /** One drift check at a time; callers that come meanwhile wait for the next. */
  private checking: Promise<void> = Promise.resolve();
  private reconcileTimer: NodeJS.Timeout | undefined;
  /** Rules of detached sandboxes, removed in batches (see detach). */
  private readonly pendingCleanup = new Map<string, { link: string; ip: string }>();
  private inFlight = new Set<string>();
  private cleaning: Promise<void> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: NetworkServiceOptions, private readonly router: Router, readonly ipam: Ipam) {}

  static async start(opts: NetworkServiceOptions): Promise<NetworkService> {
    const meta = opts.store.netMeta;
    const router = new Router({
      names: routerNames(opts.cgroupParent),
      cidr: opts.cidr,
      previous: meta.get("cidr"),
      deniedCidrs: opts.deniedCidrs,
      gatewayTcpPorts: opts.gatewayTcpPorts,
    });
    await router.ensure();
    const cidr = formatCidr(router.plan.cidr);
    if (meta.get("cidr") !== cidr) meta.set("cidr", cidr);
    const ipam = new Ipam(opts.store.addresses, router.plan);
    const dropped = ipam.dropOutside();
    if (dropped) opts.log(`network: the sandbox network moved to ${cidr}; forgot ${dropped} old address(es)`);
    const svc = new NetworkService(opts, router, ipam);
    await svc.refreshHostNets();
    svc.dns = new DnsForwarder({
      netns: router.netns,
      config: { gateway: router.plan.gateway, table: ROUTER_TABLE, staticHosts: opts.dnsStatic, upstream: opts.dnsUpstream, qps: opts.dnsQps },
      pidFile: path.join(opts.stateDir, DNS_PID_FILE),
      log: opts.log,
      onRestart: () => svc.resendPolicies(),
    });
    await svc.dns.start();
    svc.reconcileTimer = setInterval(() => {
      void svc.checkDrift().catch((e: Error) => opts.log(`network: drift check failed: ${e.message}`));
    }, opts.reconcileMs);
    svc.reconcileTimer.unref();
    return svc;
  }

  get plan(): AddressPlan {
    return this.router.plan;
  }

  get netns(): string {
    return this.router.netns;
  }

  addressOf(key: string): string | null {
    return this.ipam.addressOf(key);
  }

  /** Gives the sandbox whose init is `init` a link, an address, a route out and its policy. */
  async attach(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<string> {
    const [ip] = await this.attachMany([{ key, init, policy }]);
    return ip!;
  }

  /**
   * attach for several sandboxes at once (fork children): one `ip` batch in the router and one
   * nft transaction for all of them, then one jail request that configures every sandbox's
   * eth0 over rtnetlink (an `nsenter ip` per sandbox cost ~3 ms of process starts each).
   */
  async attachMany(items: { key: string; init: SandboxInitRef; policy: EgressPolicy }[]): Promise<string[]> {
    const gw = this.plan.gateway;
    const links = items.map((i) => ({ ...i, link: linkName(i.key), ip: this.ipam.allocate(i.key) }));
    for (const { key, init } of items) this.inits.set(key, init);
    try {
      await Promise.all([
        ipBatch(this.netns, links.flatMap(({ link, ip, init }) => [
          `link add ${link} type veth peer name eth0 netns ${init.pid}`,
          `link set ${link} up`,
          `route add ${ip}/32 dev ${link}`,
        ])).then(() => configureGuestLinks(links.map(({ init, ip }) => ({
          pid: init.pid,
          startTime: Number(init.startTime),
          address: ip,
          gateway: gw,
        })))),
        this.applyRulesMany(links),
      ]);
    } catch (err) {
      for (const { key } of links) await this.detach(key).catch(() => undefined);
      throw err;
    }
    return links.map((l) => l.ip);
  }

  /** Re-applies a surviving sandbox's rules after a restart (the rule set was reloaded). */
  async restore(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<void> {
    const ip = this.ipam.addressOf(key);
    const link = linkName(key);
    const links = await this.routerLinks();
    if (!ip || !links.has(link)) {
      // The link is gone (router namespace rebuilt): start over with a fresh one.
      await ipBatchInPid(init.pid, ["link del eth0"]).catch(() => undefined);
      await this.detach(key).catch(() => undefined);
      await this.attach(key, init, policy);
      return;
    }
    this.inits.set(key, init);
    await this.applyRules(key, link, ip, policy);
  }

  /** Changes a sandbox's policy; takes effect for its next connection. */
  async setPolicy(key: string, policy: EgressPolicy): Promise<void> {
    const ip = this.ipam.addressOf(key);
    if (!ip) return;
    await this.applyRules(key, linkName(key), ip, policy);
  }

  /**
   * Removes the sandbox's link and address at once (idempotent). Its rules go in the next
   * cleanup batch: nftables deletions wait for an RCU grace period (~18 ms a commit here), and
   * rules naming a link that no longer exists match nothing, so close does not wait for them.
   */
  async detach(key: string): Promise<void> {
    // First: a drift check running meanwhile must not take the going link for drift.
    this.policies.delete(key);
    this.inits.delete(key);
    const ip = this.ipam.addressOf(key);
    const link = linkName(key);
    await ipBatch(this.netns, [`link del ${link}`]).catch(ignoreMissing);
    if (ip) {
      this.sendDns({ type: "forget", ip });
      this.pendingCleanup.set(key, { link, ip });
      this.scheduleCleanup();
    }
    this.ipam.release(key);
  }

  /** Runs the queued rule removals now (hostd stop, tests). */
  async flushCleanup(): Promise<void> {
    clearTimeout(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await this.cleaning;
    if (this.pendingCleanup.size === 0) return;
    const batch = new Map(this.pendingCleanup);
    this.pendingCleanup.clear();
    this.cleaning = this.removeRules(batch).finally(() => {
      this.cleaning = Promise.resolve();
      this.inFlight = new Set();
    });
    this.inFlight = new Set(batch.keys());
    await this.cleaning;
  }

  private scheduleCleanup(): void {
    this.cleanupTimer ??= setTimeout(() => {
      this.cleanupTimer = undefined;
      void this.flushCleanup().catch((e: Error) => this.opts.log(`network: rule cleanup failed: ${e.message}`));
    }, CLEANUP_DELAY_MS);
  }

  private async removeRules(batch: Map<string, { link: string; ip: string }>): Promise<void> {
    const lines: string[] = [];
    for (const [key, { link, ip }] of batch) {
      lines.push(`delete element ${ROUTER_TABLE} egress { "${link}" }`, `delete element ${ROUTER_TABLE} bound { "${link}" . ${ip} }`);
      lines.push(...renderPolicyRemoval(ROUTER_TABLE, key).split("\n").filter(Boolean));
    }
    // One batch is atomic: if a piece is already gone, remove the rest one by one.
    await nft(this.netns, lines.join("\n") + "\n").catch(async () => {
      for (const line of lines) await nft(this.netns, line + "\n").catch(() => undefined);
    });
  }

  /** Forgets links and addresses of sandboxes not in `keep` (after a crash). */
  async reconcile(keep: Set<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const key of this.ipam.entries().keys()) {
      if (!keep.has(key)) {
        await this.detach(key);
        removed.push(key);
      }
    }
    const known = new Set([...keep].map(linkName));
    for (const link of await this.routerLinks()) {
      if (!known.has(link)) await ipBatch(this.netns, [`link del ${link}`]).catch(ignoreMissing);
    }
    return removed;
  }

  /**
   * Finds and repairs drift between the attached sandboxes (all, or `keys`) and the router:
   * the state is read in one `nft -j` call (plus one `ip` call for links and routes), and
   * what is missing is put back in one batch. A sandbox whose link is gone gets a new one.
   * Returns the keys that were repaired.
   */
  checkDrift(keys?: string[]): Promise<string[]> {
    const run = this.checking.then(() => this.checkDriftNow(keys));
    this.checking = run.then(() => undefined, () => undefined);
    return run;
  }

  private async checkDriftNow(keys?: string[]): Promise<string[]> {
    const wanted = keys ?? [...this.policies.keys()];
    const [table, hostTable, { links, routes }] = await Promise.all([
      run(["nsenter", `--net=/run/netns/${this.netns}`, "nft", "-j", "list", "table", ROUTER_TABLE]).then(parseTable, () => null),
      keys ? Promise.resolve(undefined) : run(["nft", "-j", "list", "table", this.router.hostTable]).then(parseTable, () => null),
      this.routerLinksAndRoutes(),
    ]);
    const base = this.router.baseCounts();
    const repaired = new Set<string>();
    if (hostTable !== undefined && (hostTable === null || [...base.host].some(([c, n]) => hostTable.chains.get(c) !== n))) {
      this.opts.log("network: the host's rules for the sandbox network drifted; reloading them");
      await this.router.loadHostRules();
    }
    // Taken after the reads: a sandbox detached meanwhile is not "repaired" back.
    const attached: AttachedSandbox[] = [];
    const relink: string[] = [];
    for (const key of wanted) {
      const policy = this.policies.get(key);
      const ip = this.ipam.addressOf(key);
      if (!policy || !ip) continue;
      const link = linkName(key);
      if (!links.has(link)) relink.push(key);
      else attached.push({ key, link, ip, policy });
    }
    const plan = planRepair(table, base.router, attached);
    if (plan.reload) {
      this.opts.log("network: the router's rule set drifted; reloading it and every sandbox's rules");
      await this.router.loadRouterRules();
      const all = planRepair(null, base.router, [...this.policies].flatMap(([key, policy]) => {
        const ip = this.ipam.addressOf(key);
        return ip && links.has(linkName(key)) ? [{ key, link: linkName(key), ip, policy }] : [];
      }));
      if (all.script) await nft(this.netns, all.script);
      all.repaired.forEach((k) => repaired.add(k));
    } else if (plan.script) {
      await nft(this.netns, plan.script);
      plan.repaired.forEach((k) => repaired.add(k));
    }
    const missingRoutes = attached.filter((a) => !routes.has(`${a.ip} ${a.link}`));
    if (missingRoutes.length) {
      await ipBatch(this.netns, missingRoutes.map((a) => `route replace ${a.ip}/32 dev ${a.link}`));
      missingRoutes.forEach((a) => repaired.add(a.key));
    }
    for (const key of relink) {
      const init = this.inits.get(key);
      const policy = this.policies.get(key);
      if (!init || !policy) continue;
      await this.restore(key, init, policy).then(
        () => repaired.add(key),
        (e: Error) => this.opts.log(`network: could not give ${key} its link back: ${e.message}`),
      );
    }
    if (repaired.size) this.opts.log(`network: repaired drifted rules or links of ${[...repaired].join(", ")}`);
    if (!keys) await this.refreshHostNets();
    return [...repaired];
  }

  /** Rules in the router's table now (metrics): one `nft -j` call, so callers cache it. */
  async ruleCount(): Promise<number> {
    const table = parseTable(await run(["nsenter", `--net=/run/netns/${this.netns}`, "nft", "-j", "list", "table", ROUTER_TABLE]));
    let n = 0;
    for (const c of table?.chains.values() ?? []) n += c;
    return n;
  }

  /** Reads the host's connected subnets and updates the router's deny set if they changed. */
  async refreshHostNets(): Promise<void> {
    if (!this.opts.denyHostSubnets) return;
    const nets = await readConnectedSubnets(this.plan.cidr);
    if (nets.join(",") === this.router.hostNets.join(",")) return;
    this.router.hostNets = nets;
    await nft(this.netns, renderHostNets(nets));
  }

  /** Writes the sandbox's resolv.conf (the gateway's forwarder) into a root we just made. */
  writeResolvConf(rootfs: string, uid: number): void {
    const etc = path.join(rootfs, "etc");
    // The root is a fresh copy of a template or a Space, not yet run: still, never follow links.
    if (!fs.lstatSync(etc).isDirectory()) return;
    const file = path.join(etc, "resolv.conf");
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) return;
    const text = `# written by podflare: the DNS forwarder on the gateway\nnameserver ${this.plan.gateway}\noptions timeout:2 attempts:2\n`;
    // Already right (hostd writes it into each template at start): a write would cost the
    // fresh btrfs snapshot a copied tree path now and ~10 ms of btrfs-cleaner CPU at its
    // deletion (measured), for nothing.
    if (st && st.uid === uid && st.gid === uid && st.size === Buffer.byteLength(text) && fs.readFileSync(file, "utf8") === text) return;
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
    try {
      fs.writeSync(fd, text);
      fs.fchownSync(fd, uid, uid);
    } finally {
      fs.closeSync(fd);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await this.checking.catch(() => undefined);
    await this.flushCleanup().catch((e: Error) => this.opts.log(`network: rule cleanup failed: ${e.message}`));
    await this.dns?.stop();
  }

  private applyRules(key: string, link: string, ip: string, policy: EgressPolicy): Promise<void> {
    return this.applyRulesMany([{ key, link, ip, policy }]);
  }

  private async applyRulesMany(items: { key: string; link: string; ip: string; policy: EgressPolicy }[]): Promise<void> {
    // A removal still queued for these keys (egress turned off, then on) must not undo the rules.
    for (const { key } of items) this.pendingCleanup.delete(key);
    if (items.some(({ key }) => this.inFlight.has(key))) await this.cleaning;
    await nft(this.netns, items.map(({ key, link, ip, policy }) => [
      renderPolicy(ROUTER_TABLE, key, policy),
      `add element ${ROUTER_TABLE} bound { "${link}" . ${ip} }`,
      `add element ${ROUTER_TABLE} egress { "${link}" : jump ${chainNames(key).chain} }`,
      "",
    ].join("\n")).join(""));
    for (const { key, ip, policy } of items) {
      this.policies.set(key, policy);
      this.sendDns({ type: "policy", policy: dnsPolicy(key, ip, policy) });
    }
  }

  /** Sandbox links and routes (`<dst> <dev>`) of the router, in one `ip` call. */
  private async routerLinksAndRoutes(): Promise<{ links: Set<string>; routes: Set<string> }> {
    const out = await run(["ip", "-n", this.netns, "-j", "-4", "-batch", "-"], "link show\nroute show\n");
    const [links, routes] = out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, string>[]);
    return {
      links: new Set((links ?? []).map((l) => l.ifname!.replace(/@.*$/, "")).filter((n) => n.startsWith(SANDBOX_LINK_PREFIX))),
      routes: new Set((routes ?? []).map((r) => `${r.dst} ${r.dev}`)),
    };
  }

  private async routerLinks(): Promise<Set<string>> {
    const out = await run(["ip", "-n", this.netns, "-j", "link", "show"]);
    const links = JSON.parse(out) as { ifname: string }[];
    return new Set(links.map((l) => l.ifname.replace(/@.*$/, "")).filter((n) => n.startsWith(SANDBOX_LINK_PREFIX)));
  }

  private sendDns(m: DnsMessage): void {
    this.dns?.send(m);
  }

  private resendPolicies(): void {
    for (const [key, p] of this.policies) {
      const ip = this.ipam.addressOf(key);
      if (ip) this.sendDns({ type: "policy", policy: dnsPolicy(key, ip, p) });
    }
  }
}

/** `podflare down`: removes the router namespace and what belongs to it on the host. */
export function teardownNetwork(cgroupParent: string): Promise<void> {
  return teardownRouter(routerNames(cgroupParent));
}

function dnsPolicy(key: string, ip: string, p: EgressPolicy): DnsPolicy {
  return { ip, key, allowDomains: p.allowDomains, denyDomains: p.denyDomains, namesRestricted: p.allowCidrs !== null };
}

function ignoreMissing(e: unknown): void {
  if (e instanceof NetworkCommandError && /Cannot find device|does not exist|No such device/i.test(e.stderr)) return;
  throw e;
}
