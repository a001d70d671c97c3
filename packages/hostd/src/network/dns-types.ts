// Messages between hostd and the DNS forwarder it runs in the router namespace.

export interface DnsConfig {
  /** Address the forwarder listens on (UDP 53): the sandboxes' gateway. */
  gateway: string;
  /** nftables table holding the sandboxes' learned-address sets. */
  table: string;
  /** Lower-case name -> IPv4 addresses answered without asking anyone. */
  staticHosts: Record<string, string[]>;
  /** Upstream resolvers; empty: names outside the static map do not resolve. */
  upstream: string[];
  /** Queries per second each sandbox may send (a token bucket of twice that size). */
  qps: number;
}

export interface DnsPolicy {
  /** The sandbox's address (the source of its queries). */
  ip: string;
  /** The sandbox's network key (names its nftables sets). */
  key: string;
  allowDomains: string[];
  denyDomains: string[];
  /** The policy has an allow list: only names in allowDomains are answered. */
  namesRestricted: boolean;
}

export type DnsMessage =
  | { type: "config"; config: DnsConfig }
  | { type: "policy"; policy: DnsPolicy }
  | { type: "forget"; ip: string };
