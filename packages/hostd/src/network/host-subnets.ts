// The host's directly connected IPv4 subnets (its own interfaces' networks): the LAN the host
// sits on, which a sandbox must not reach even when the operator's deny list does not name it.
import { formatCidr, overlaps, parseCidr, type Cidr } from "./addresses.js";
import { run } from "./commands.js";

/** Subnets of the host's interfaces from `ip -j -4 addr`, except loopback and `exclude`. */
export function connectedSubnets(ipAddrJson: string, exclude: Cidr): string[] {
  const links = JSON.parse(ipAddrJson) as { ifname: string; addr_info?: { local?: string; prefixlen?: number }[] }[];
  const out = new Set<string>();
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (!a.local || a.prefixlen === undefined) continue;
      const c = parseCidr(`${a.local}/${a.prefixlen}`);
      if (overlaps(c, parseCidr("127.0.0.0/8")) || overlaps(c, exclude)) continue;
      out.add(formatCidr(c));
    }
  }
  return [...out].sort();
}

export async function readConnectedSubnets(exclude: Cidr): Promise<string[]> {
  return connectedSubnets(await run(["ip", "-j", "-4", "addr", "show"]), exclude);
}
