// The nftables rule sets of the sandbox network (pure text; router.ts loads them).
//
// Router namespace (one per hostd): every sandbox link ends here. New connections from a
// sandbox pass its own policy chain (map `egress`, filled per sandbox); sandbox-to-sandbox
// traffic (whatever its conntrack state), IPv6, spoofed source addresses and the operator's
// denied ranges never pass.
// Host namespace: the uplink from the router may only answer, never open a connection to a
// host service; sandbox traffic leaving the host is masqueraded.
import { formatCidr, type AddressPlan } from "./addresses.js";

export const ROUTER_TABLE = "inet podflare";
/** Router-side names of sandbox links start with this. */
export const SANDBOX_LINK_PREFIX = "pfs";
export const ROUTER_UPLINK = "uplink";

const REJECT = "reject with icmpx type admin-prohibited";
/**
 * Packets a second each sandbox may send to the DNS forwarder (burst: twice that). Beyond it they
 * are dropped before conntrack and the forwarder see them: its own per-sandbox limit (50
 * queries/s, answered REFUSED) still cost it CPU, and three sandboxes flooding it made others'
 * lookups time out (outside tester, 2026-12-06).
 */
export const DNS_PACKETS_PER_S = 200;
/**
 * Open connections (conntrack entries, TCP ones in TIME_WAIT not counted) each sandbox link may
 * have through the router at once; a new one past it is refused. The router's conntrack table
 * is shared: three sandboxes filled its 262,144 entries.
 */
export const FLOWS_PER_SANDBOX = 4096;

export interface RouterRules {
  plan: AddressPlan;
  /** Destinations no sandbox may reach, whatever its policy (operator configuration). */
  deniedCidrs: string[];
  /** TCP ports on the gateway address sandboxes may open (subject to their own policy). */
  gatewayTcpPorts: number[];
}

export function routerRuleset(r: RouterRules): string {
  const gw = r.plan.gateway;
  const sb = `"${SANDBOX_LINK_PREFIX}*"`;
  const ports = r.gatewayTcpPorts.length ? `elements = { ${r.gatewayTcpPorts.join(", ")} }` : "";
  const denied = r.deniedCidrs.length ? `iifname ${sb} ip daddr { ${r.deniedCidrs.join(", ")} } ${REJECT}` : "";
  // A sandbox can forge an ICMP error whose embedded header names any flow the router tracks
  // (another sandbox's DNS query, the forwarder's upstream socket): conntrack calls it
  // `related`. From a link, only errors about that link's own flows (first sent by its
  // address) count; link-to-link and the block are refused above, before any state is trusted.
  const ownRelated = `iifname ${sb} ct state related iifname . ct original ip saddr != @bound drop`;
  // One count per link across input and forward (the same set): its new connections to the
  // gateway and out of the router together.
  const flowCap = `iifname ${sb} ct state new add @link_flows { iifname ct count over ${FLOWS_PER_SANDBOX} } ${REJECT}`;
  return `table ${ROUTER_TABLE}
delete table ${ROUTER_TABLE}
table ${ROUTER_TABLE} {
  set bound { type ifname . ipv4_addr; }
  map egress { type ifname : verdict; }
  set gateway_tcp { type inet_service; ${ports} }
  set host_nets { type ipv4_addr; flags interval; auto-merge; }
  set dns_rate { type ifname; flags dynamic; timeout 10s; }
  set link_flows { type ifname; flags dynamic; }
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    iifname ${sb} meta nfproto ipv6 drop
    iifname ${sb} meta protocol arp accept
    iifname ${sb} iifname . ip saddr != @bound drop
    iifname ${sb} ip daddr ${gw} meta l4proto { udp, tcp } th dport 53 add @dns_rate { iifname limit rate over ${DNS_PACKETS_PER_S}/second burst ${2 * DNS_PACKETS_PER_S} packets } drop
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iif "lo" accept
    ${ownRelated}
    ct state established,related accept
    ct state invalid drop
    ${flowCap}
    iifname ${sb} ip daddr ${gw} udp dport 53 accept
    iifname ${sb} ip daddr ${gw} tcp dport 53 accept
    iifname ${sb} ip daddr ${gw} icmp type echo-request accept
    iifname ${sb} ip daddr ${gw} tcp dport @gateway_tcp iifname vmap @egress
    iifname ${sb} ${REJECT}
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname ${sb} oifname ${sb} ${REJECT}
    iifname ${sb} ip daddr ${formatCidr(r.plan.cidr)} ${REJECT}
    ${ownRelated}
    ct state established,related accept
    ct state invalid drop
    ${flowCap}
    ${denied}
    iifname ${sb} ip daddr @host_nets ${REJECT}
    iifname ${sb} iifname vmap @egress
  }
  chain output {
    type filter hook output priority filter; policy accept;
  }
}
`;
}

/** nft commands replacing the router's set of the host's directly connected subnets. */
export function renderHostNets(cidrs: string[]): string {
  const lines = [`flush set ${ROUTER_TABLE} host_nets`];
  if (cidrs.length) lines.push(`add element ${ROUTER_TABLE} host_nets { ${cidrs.join(", ")} }`);
  return lines.join("\n") + "\n";
}

/** Rules per base chain of a rule set (drift.ts compares them with the live table). */
export function baseRuleCounts(ruleset: string): Map<string, number> {
  const counts = new Map<string, number>();
  let chain: string | null = null;
  for (const raw of ruleset.split("\n")) {
    const line = raw.trim();
    const open = /^chain (\S+) \{$/.exec(line);
    if (open) {
      chain = open[1]!;
      counts.set(chain, 0);
    } else if (line === "}") {
      chain = null;
    } else if (chain && line && !line.startsWith("type ")) {
      counts.set(chain, counts.get(chain)! + 1);
    }
  }
  return counts;
}

export function hostTable(suffix: string): string {
  return `inet podflare_${suffix}`;
}

export function hostRuleset(suffix: string, uplink: string, plan: AddressPlan): string {
  const t = hostTable(suffix);
  return `table ${t}
delete table ${t}
table ${t} {
  chain input {
    type filter hook input priority filter - 5; policy accept;
    iifname "${uplink}" ct state established,related accept
    iifname "${uplink}" drop
  }
  chain forward {
    type filter hook forward priority filter - 5; policy accept;
    oifname "${uplink}" ct state established,related accept
    oifname "${uplink}" drop
    iifname "${uplink}" oifname "pfu*" drop
    iifname "${uplink}" accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${formatCidr(plan.cidr)} oifname != "${uplink}" masquerade
  }
}
`;
}
