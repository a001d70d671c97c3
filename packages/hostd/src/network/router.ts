// The router namespace: one network namespace per hostd where every sandbox link ends, with
// an uplink veth pair to the host. Its address block is claimed under /run/podflare/net so two
// hostds on one machine never take the same block; the choice is kept in the metadata store.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { formatCidr, overlaps, parseCidr, planFor, type AddressPlan, type Cidr } from "./addresses.js";
import { ipBatch, nft, run, NetworkCommandError } from "./commands.js";
import { baseRuleCounts, hostRuleset, hostTable, renderHostNets, ROUTER_UPLINK, routerRuleset } from "./rulesets.js";

const CLAIM_DIR = "/run/podflare/net";

export interface RouterNames {
  netns: string;
  hostUplink: string;
  /** Suffix of the host's nftables table (inet podflare_<suffix>). */
  suffix: string;
}

/** Names derived from the state dir's cgroup parent ("podflare" or "podflare-<hash8>"). */
export function routerNames(cgroupParent: string): RouterNames {
  const tag = cgroupParent === "podflare" ? "main" : cgroupParent.replace(/^podflare-/, "").slice(0, 8);
  return { netns: `${cgroupParent}-net`, hostUplink: `pfu${tag}`.slice(0, 15), suffix: tag };
}

export interface RouterOptions {
  names: RouterNames;
  /** Explicit block (PODFLARE_NET_CIDR); otherwise one is chosen. */
  cidr?: string;
  /** A previously chosen block (from the metadata store), tried first. */
  previous?: string | null;
  deniedCidrs: string[];
  gatewayTcpPorts: number[];
}

/** Candidate blocks: 10.77.0.0/16 first for the default state dir, then a spread by name. */
function candidates(names: RouterNames): string[] {
  const h = names.suffix === "main" ? 0 : crypto.createHash("sha256").update(names.suffix).digest().readUInt16BE(0);
  return Array.from({ length: 100 }, (_, i) => `10.${77 + ((h + i) % 100)}.0.0/16`);
}

export class Router {
  plan!: AddressPlan;
  /** The host's connected subnets, denied to sandboxes (network-service.ts keeps them fresh). */
  hostNets: string[] = [];

  constructor(private readonly opts: RouterOptions) {}

  get netns(): string {
    return this.opts.names.netns;
  }

  /** Makes sure the namespace, uplink, routes and rule sets exist; reloads the rule sets. */
  async ensure(): Promise<void> {
    const { names } = this.opts;
    const prev = this.opts.cidr ?? this.opts.previous;
    if (prev && (await this.intact(parseCidr(prev)))) {
      this.plan = planFor(parseCidr(prev));
      await this.loadRules();
      return;
    }
    await teardownRouter(names);
    const tried: string[] = [];
    const list = this.opts.cidr ? [this.opts.cidr] : [...(prev ? [prev] : []), ...candidates(names)];
    const routes = await hostRoutes();
    for (const c of list) {
      const cidr = parseCidr(c);
      const clash = routes.find((r) => overlaps(r, cidr));
      if (clash || !claim(cidr, names.netns)) {
        tried.push(formatCidr(cidr));
        if (this.opts.cidr) {
          throw new Error(`PODFLARE_NET_CIDR ${formatCidr(cidr)} overlaps ${clash ? `the host route ${formatCidr(clash)}` : "another hostd's sandbox network"}; pick another block`);
        }
        continue;
      }
      this.plan = planFor(cidr);
      try {
        await this.build();
      } catch (err) {
        await teardownRouter(names);
        throw err;
      }
      await this.loadRules();
      return;
    }
    throw new Error(`no free address block for the sandbox network (tried ${tried.slice(0, 5).join(", ")}, …); set PODFLARE_NET_CIDR`);
  }

  private async intact(cidr: Cidr): Promise<boolean> {
    const { names } = this.opts;
    if (!fs.existsSync(`/run/netns/${names.netns}`)) return false;
    try {
      const out = await run(["ip", "-j", "-4", "addr", "show", "dev", names.hostUplink]);
      const addrs = (JSON.parse(out) as { addr_info: { local: string }[] }[])[0]?.addr_info ?? [];
      return addrs.some((a) => a.local === planFor(cidr).uplinkHost) && claimOwner(cidr) === names.netns;
    } catch {
      return false;
    }
  }

  private async build(): Promise<void> {
    const { names } = this.opts;
    const p = this.plan;
    await run(["ip", "netns", "add", names.netns]);
    await ipBatch(null, [
      `link add ${names.hostUplink} type veth peer name ${ROUTER_UPLINK} netns ${names.netns}`,
      `addr add ${p.uplinkHost}/30 dev ${names.hostUplink}`,
      `link set ${names.hostUplink} up`,
      `route add ${formatCidr(p.cidr)} via ${p.uplinkRouter} dev ${names.hostUplink}`,
    ]);
    await ipBatch(names.netns, [
      "link set lo up",
      // The gateway lives on lo: the forwarder can listen before any sandbox link exists,
      // and the router answers ARP for it on every link.
      `addr add ${p.gateway}/32 dev lo`,
      `addr add ${p.uplinkRouter}/30 dev ${ROUTER_UPLINK}`,
      `link set ${ROUTER_UPLINK} up`,
      `route add default via ${p.uplinkHost}`,
    ]);
    // Forwarding in the router; no IPv6 on its links (sandboxes are IPv4 only). The host must
    // forward too, for NAT out (as Docker and LXD set it).
    await run(["ip", "netns", "exec", names.netns, "sysctl", "-q", "-w",
      "net.ipv4.ip_forward=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.all.disable_ipv6=1"]);
    await run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  }

  async loadRules(): Promise<void> {
    await this.loadRouterRules();
    await this.loadHostRules();
  }

  /** Reloads the router's table: every sandbox's chain and map entries are gone after it. */
  async loadRouterRules(): Promise<void> {
    await nft(this.opts.names.netns, this.routerRuleset() + renderHostNets(this.hostNets));
  }

  async loadHostRules(): Promise<void> {
    await nft(null, this.hostRuleset());
  }

  get hostTable(): string {
    return hostTable(this.opts.names.suffix);
  }

  /** Rules per base chain of the router's and the host's table, as loaded. */
  baseCounts(): { router: Map<string, number>; host: Map<string, number> } {
    return { router: baseRuleCounts(this.routerRuleset()), host: baseRuleCounts(this.hostRuleset()) };
  }

  private routerRuleset(): string {
    return routerRuleset({ plan: this.plan, deniedCidrs: this.opts.deniedCidrs, gatewayTcpPorts: this.opts.gatewayTcpPorts });
  }

  private hostRuleset(): string {
    return hostRuleset(this.opts.names.suffix, this.opts.names.hostUplink, this.plan);
  }
}

/** Removes a router namespace, its uplink, host routes and rules, and its block's claim. */
export async function teardownRouter(names: RouterNames): Promise<void> {
  const quiet = (p: Promise<unknown>) => p.catch((e: unknown) => {
    if (!(e instanceof NetworkCommandError)) throw e;
  });
  await quiet(run(["ip", "netns", "del", names.netns]));
  await quiet(run(["ip", "link", "del", names.hostUplink]));
  await quiet(run(["nft", "delete", "table", hostTable(names.suffix)]));
  if (fs.existsSync(CLAIM_DIR)) {
    for (const f of fs.readdirSync(CLAIM_DIR)) {
      const file = path.join(CLAIM_DIR, f);
      if (readClaim(file) === names.netns) fs.rmSync(file, { force: true });
    }
  }
}

function claimFile(cidr: Cidr): string {
  return path.join(CLAIM_DIR, formatCidr(cidr).replace("/", "_"));
}

function readClaim(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
}

function claimOwner(cidr: Cidr): string | null {
  return readClaim(claimFile(cidr));
}

/** Claims a block for a namespace; a claim whose namespace is gone is stale and taken over. */
function claim(cidr: Cidr, netns: string): boolean {
  fs.mkdirSync(CLAIM_DIR, { recursive: true, mode: 0o755 });
  const file = claimFile(cidr);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, netns + "\n", { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readClaim(file);
      if (owner === netns) return true;
      if (owner && fs.existsSync(`/run/netns/${owner}`)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

/** IPv4 destinations the host routes already (main table), not ours. */
async function hostRoutes(): Promise<Cidr[]> {
  const out = await run(["ip", "-j", "-4", "route", "show", "table", "main"]);
  const routes = JSON.parse(out) as { dst: string; dev?: string }[];
  return routes
    .filter((r) => r.dst !== "default")
    .map((r) => parseCidr(r.dst));
}

