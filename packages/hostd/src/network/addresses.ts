// IPv4 arithmetic and the address plan of one hostd's sandbox network (pure, no I/O).
//
// A plan is one block (a /16 by default): the gateway (the router namespace's address on
// every sandbox link) is the first host address, sandboxes take the addresses after it, and
// the last /30 links the router namespace to the host (uplink).

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

export interface AddressPlan {
  cidr: Cidr;
  gateway: string;
  /** Host side and router side of the uplink veth pair (a /30 at the end of the block). */
  uplinkHost: string;
  uplinkRouter: string;
  /** First and last integer a sandbox may get. */
  firstSandbox: number;
  lastSandbox: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`${JSON.stringify(ip)} is not an IPv4 address`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`${JSON.stringify(ip)} is not an IPv4 address`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function isIpv4(s: string): boolean {
  try {
    ipToInt(s);
    return true;
  } catch {
    return false;
  }
}

/** "10.77.0.0/16" or a bare address (a /32). The base is masked: "10.77.1.2/16" is 10.77.0.0/16. */
export function parseCidr(s: string): Cidr {
  const [ip, bits, extra] = s.split("/");
  if (extra !== undefined || ip === undefined) throw new Error(`${JSON.stringify(s)} is not an IPv4 CIDR`);
  const prefix = bits === undefined ? 32 : Number(bits);
  if (bits !== undefined && (!/^\d{1,2}$/.test(bits) || prefix > 32)) throw new Error(`${JSON.stringify(s)} has a bad prefix length`);
  return { base: (ipToInt(ip) & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

export function planFor(cidr: Cidr): AddressPlan {
  if (cidr.prefix > 24) throw new Error(`the sandbox network ${formatCidr(cidr)} is too small: use a /24 or larger`);
  const last = cidr.base + size(cidr) - 1;
  const uplink = last - 3; // the last /30: network, host, router, broadcast
  return {
    cidr,
    gateway: intToIp(cidr.base + 1),
    uplinkHost: intToIp(uplink + 1),
    uplinkRouter: intToIp(uplink + 2),
    firstSandbox: cidr.base + 2,
    lastSandbox: uplink - 1,
  };
}
