// Address management: one IPv4 address per attached sandbox, kept in the metadata store so
// addresses never collide across hostd restarts. The lowest free address is handed out.
import { PodflareError } from "@podflare/protocol";
import type { AddressTable } from "../store/store.js";
import { intToIp, type AddressPlan } from "./addresses.js";

export class Ipam {
  constructor(private readonly table: AddressTable, private readonly plan: AddressPlan) {}

  addressOf(key: string): string | null {
    const ip = this.table.get(key);
    return ip === null ? null : intToIp(ip);
  }

  /** The key's address, allocating the lowest free one if it has none. */
  allocate(key: string): string {
    const ip = this.table.allocate(key, this.plan.firstSandbox, this.plan.lastSandbox);
    if (ip === null) {
      throw new PodflareError("unavailable", "the sandbox network has no free address left; close sandboxes or configure a larger PODFLARE_NET_CIDR");
    }
    return intToIp(ip);
  }

  release(key: string): void {
    this.table.release(key);
  }

  entries(): Map<string, string> {
    return new Map([...this.table.entries()].map(([k, ip]) => [k, intToIp(ip)]));
  }

  /** Drops addresses outside the current plan (the network was moved to another block). */
  dropOutside(): number {
    return this.table.dropOutside(this.plan.firstSandbox, this.plan.lastSandbox);
  }
}
