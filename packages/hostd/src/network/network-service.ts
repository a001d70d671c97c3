// Sandbox networking (DESIGN §8, docs/network.md): the router namespace, one routed veth link
// per sandbox with egress, addresses from IPAM, per-sandbox egress policy in nftables, and the
// DNS forwarder. Runtimes call attach/detach with the sandbox init's pid (its network
// namespace); the manager changes policies. Here: the service and attach/detach/restore of links;
// a sandbox's rules: sandbox-rules.ts; the drift check: drift-check.ts; links as the router
// sees them: sandbox-links.ts; resolv.conf: resolv-conf.ts.
import path from "node:path";
import type { Store } from "../store/store.js";
import { configureGuestLinks } from "../jail/netcfg.js";
import { ipBatch, ipBatchInPid, nft, run } from "./commands.js";
import { Ipam } from "./ipam.js";
import type { EgressPolicy } from "./policy.js";
import { Router, routerNames, teardownRouter } from "./router.js";
import { renderHostNets, ROUTER_TABLE } from "./rulesets.js";
import { parseTable } from "./drift.js";
import { checkDriftNow, type DriftCheckDeps, type SandboxInitRef } from "./drift-check.js";
import { readConnectedSubnets } from "./host-subnets.js";
import { DnsForwarder } from "./dns-forwarder.js";
import { formatCidr, parseCidr, type AddressPlan } from "./addresses.js";
import { writeResolvConf } from "./resolv-conf.js";
import { ignoreMissing, linkName, routerLinks } from "./sandbox-links.js";
import { SandboxRules } from "./sandbox-rules.js";
import { KeyedLocks } from "./keyed-locks.js";

export { linkName, type SandboxInitRef };

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

export interface NetworkServiceOptions extends NetworkConfig {
  cgroupParent: string;
  /** Holds the DNS forwarder's pid file. */
  stateDir: string;
  /** Where addresses and the chosen CIDR are kept across restarts. */
  store: Pick<Store, "addresses" | "netMeta">;
  log: (msg: string) => void;
  /** Sandboxes from before this start that still run (they keep the resolv.conf they had). */
  liveSandboxes?: () => number;
}

const DNS_PID_FILE = "dns-forwarder.pid";

export class NetworkService {
  private dns: DnsForwarder | null = null;
  /** Each attached sandbox's rules and policy, and the batched removal of detached ones'. */
  private readonly rules: SandboxRules;
  /** Inits of attached sandboxes: a link found missing is made again in their namespace. */
  private readonly inits = new Map<string, SandboxInitRef>();
  /** One change per sandbox at a time; the periodic drift check with none running. */
  private readonly locks = new KeyedLocks();
  /** One drift check at a time; callers that come meanwhile wait for the next. */
  private checking: Promise<void> = Promise.resolve();
  /** Set by reconcile (hostd's start): from then on every sandbox alive has been attached. */
  private reconciled = false;
  private reconcileTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: NetworkServiceOptions, private readonly router: Router, readonly ipam: Ipam) {
    this.rules = new SandboxRules(router.netns, (m) => this.dns?.send(m), opts.log);
  }

  static async start(opts: NetworkServiceOptions): Promise<NetworkService> {
    const meta = opts.store.netMeta;
    const previous = meta.get("cidr");
    if (opts.cidr && previous && formatCidr(parseCidr(opts.cidr)) !== previous) {
      // Their /etc/resolv.conf names the old gateway, which nothing answers once the block moved:
      // every running sandbox would lose DNS (found by an outside tester).
      const live = opts.liveSandboxes?.() ?? 0;
      if (live > 0) {
        throw new Error(
          `PODFLARE_NET_CIDR=${opts.cidr} moves the sandbox network from ${previous}, but ${live} sandbox(es) from before still run ` +
            `and their /etc/resolv.conf names the old gateway: their DNS would stop answering. Keep PODFLARE_NET_CIDR=${previous} ` +
            "until they are closed, or stop them first (`podflare down --force` kills them)",
        );
      }
    }
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
      onRestart: () => svc.rules.resendPolicies((key) => svc.ipam.addressOf(key)),
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

  /** The address of an attached sandbox (null while it has no rules in place). */
  addressOf(key: string): string | null {
    return this.rules.policies.has(key) ? this.ipam.addressOf(key) : null;
  }

  /** Gives the sandbox whose init is `init` a link, an address, a route out and its policy. */
  async attach(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<string> {
    const [ip] = await this.attachMany([{ key, init, policy }]);
    return ip!;
  }

  /**
   * Egress on (with `policy`) or off for a live sandbox: decided and done under the sandbox's
   * lock, so concurrent changes apply one after another. A failure leaves the sandbox as before
   * the call when egress was on, and without a link or address when it was being turned on.
   */
  configure(key: string, init: SandboxInitRef, egress: boolean, policy: EgressPolicy): Promise<void> {
    return this.locks.withKey(key, async () => {
      const attached = this.rules.policies.has(key);
      if (!egress) {
        if (attached || this.ipam.addressOf(key) !== null) await this.detachNow(key);
      } else if (!attached) {
        await this.attachNow([{ key, init, policy }]);
      } else {
        await this.rules.apply([{ key, link: linkName(key), ip: this.ipam.addressOf(key)!, policy }]);
      }
    });
  }

  /**
   * attach for several sandboxes at once (fork children): one `ip` batch in the router and one
   * nft transaction for all of them, then one jail request that configures every sandbox's
   * eth0 over rtnetlink (an `nsenter ip` per sandbox cost ~3 ms of process starts each).
   */
  attachMany(items: { key: string; init: SandboxInitRef; policy: EgressPolicy }[]): Promise<string[]> {
    return this.locks.withKeys(items.map((i) => i.key), () => this.attachNow(items));
  }

  private async attachNow(items: { key: string; init: SandboxInitRef; policy: EgressPolicy }[]): Promise<string[]> {
    const gw = this.plan.gateway;
    // What an earlier failed detach may have left (its link kept its address): gone first.
    for (const { key } of items) {
      if (this.ipam.addressOf(key) !== null) await ipBatch(this.netns, [`link del ${linkName(key)}`]).catch(ignoreMissing);
    }
    const links: (typeof items[number] & { link: string; ip: string })[] = [];
    try {
      for (const i of items) links.push({ ...i, link: linkName(i.key), ip: this.ipam.allocate(i.key) });
      for (const { key, init } of items) this.inits.set(key, init);
      // Both settle before a rollback: rules applied after it would outlive it.
      const results = await Promise.allSettled([
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
        this.rules.apply(links),
      ]);
      for (const r of results) if (r.status === "rejected") throw r.reason;
    } catch (err) {
      for (const { key } of items) await this.detachNow(key).catch((e: Error) => this.opts.log(`network: rollback of ${key} failed: ${e.message}`));
      throw err;
    }
    return links.map((l) => l.ip);
  }

  /** Re-applies a surviving sandbox's rules after a restart (the rule set was reloaded). */
  restore(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<void> {
    return this.locks.withKey(key, () => this.restoreNow(key, init, policy));
  }

  private async restoreNow(key: string, init: SandboxInitRef, policy: EgressPolicy): Promise<void> {
    const ip = this.ipam.addressOf(key);
    const link = linkName(key);
    const links = await routerLinks(this.netns);
    if (!ip || !links.has(link)) {
      // The link is gone (router namespace rebuilt): start over with a fresh one.
      await ipBatchInPid(init.pid, ["link del eth0"]).catch(() => undefined);
      await this.detachNow(key).catch(() => undefined);
      await this.attachNow([{ key, init, policy }]);
      return;
    }
    this.inits.set(key, init);
    await this.rules.apply([{ key, link, ip, policy }]);
  }

  /**
   * Removes the sandbox's link and address at once (idempotent). Its rules go in the next
   * cleanup batch: nftables deletions wait for an RCU grace period (~18 ms a commit here), and
   * rules naming a link that no longer exists match nothing, so close does not wait for them.
   */
  detach(key: string): Promise<void> {
    return this.locks.withKey(key, () => this.detachNow(key));
  }

  /**
   * The rules go whatever happens (a sandbox being detached has no policy any more); the address
   * only once its link is gone, so it is never handed to another sandbox while a route to this
   * one holds it (the drift check removes such a link and frees its address later).
   */
  private async detachNow(key: string): Promise<void> {
    this.rules.policies.delete(key);
    this.inits.delete(key);
    const ip = this.ipam.addressOf(key);
    const link = linkName(key);
    if (ip) this.rules.queueRemoval(key, link, ip);
    await ipBatch(this.netns, [`link del ${link}`]).catch(ignoreMissing);
    this.ipam.release(key);
  }

  /** Runs the queued rule removals now (hostd stop, tests). */
  flushCleanup(): Promise<void> {
    return this.rules.flush();
  }

  /** Forgets links and addresses of sandboxes not in `keep` (after a crash). */
  reconcile(keep: Set<string>): Promise<string[]> {
    return this.locks.exclusive(async () => {
      const removed: string[] = [];
      for (const key of this.ipam.entries().keys()) {
        if (!keep.has(key)) {
          await this.detachNow(key);
          removed.push(key);
        }
      }
      const known = new Set([...keep].map(linkName));
      for (const link of await routerLinks(this.netns)) {
        if (!known.has(link)) await ipBatch(this.netns, [`link del ${link}`]).catch(ignoreMissing);
      }
      this.reconciled = true;
      return removed;
    });
  }

  /**
   * Finds and repairs drift between the attached sandboxes (all, or `keys`) and the router:
   * the state is read in one `nft -j` call (plus one `ip` call for links and routes), and
   * what is missing is put back in one batch. A sandbox whose link is gone gets a new one.
   * Returns the keys that were repaired.
   */
  checkDrift(keys?: string[]): Promise<string[]> {
    // A sandbox's own check holds its lock; the periodic one (which also removes what belongs
    // to no sandbox) holds every lock, so nothing it reads changes before it acts.
    const locked = (fn: () => Promise<string[]>) => (keys ? this.locks.withKeys(keys, fn) : this.locks.exclusive(fn));
    const run = this.checking.then(() => locked(() => checkDriftNow(this.driftDeps(), keys)));
    this.checking = run.then(() => undefined, () => undefined);
    return run;
  }

  private driftDeps(): DriftCheckDeps {
    return {
      router: this.router,
      ipam: this.ipam,
      policies: this.rules.policies,
      inits: this.inits,
      restore: (key, init, policy) => this.restoreNow(key, init, policy),
      // Before hostd's start has re-adopted its sandboxes, an unknown link may be one of theirs.
      removeStale: this.reconciled,
      removing: () => this.rules.removing(),
      refreshHostNets: () => this.refreshHostNets(),
      log: this.opts.log,
    };
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
    writeResolvConf(rootfs, uid, this.plan.gateway);
  }

  async stop(): Promise<void> {
    clearInterval(this.reconcileTimer);
    await this.checking.catch(() => undefined);
    await this.flushCleanup().catch((e: Error) => this.opts.log(`network: rule cleanup failed: ${e.message}`));
    await this.dns?.stop();
  }
}

/** `podflare down`: removes the router namespace and what belongs to it on the host. */
export function teardownNetwork(cgroupParent: string): Promise<void> {
  return teardownRouter(routerNames(cgroupParent));
}
