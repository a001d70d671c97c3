// Address management: one IPv4 address per attached sandbox, kept in SQLite so addresses
// never collide across hostd restarts. The lowest free address is handed out.
import { PodflareError } from "@podflare/protocol";
import type { Db } from "../store/db.js";
import { intToIp, type AddressPlan } from "./addresses.js";

export const ipamMigration = `
  CREATE TABLE net_addresses (key TEXT PRIMARY KEY, ip INTEGER NOT NULL UNIQUE);
  CREATE TABLE net_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
  ALTER TABLE sandboxes ADD COLUMN network_json TEXT;`;

export class Ipam {
  // Prepared once: addressOf runs for every sandbox info and list, allocate/release on every
  // create and close.
  private readonly byKey;
  private readonly used;
  private readonly insert;
  private readonly remove;

  constructor(private readonly db: Db, private readonly plan: AddressPlan) {
    this.byKey = db.prepare("SELECT ip FROM net_addresses WHERE key = ?");
    this.used = db.prepare("SELECT ip FROM net_addresses WHERE ip BETWEEN ? AND ? ORDER BY ip").pluck();
    this.insert = db.prepare("INSERT INTO net_addresses (key, ip) VALUES (?, ?)");
    this.remove = db.prepare("DELETE FROM net_addresses WHERE key = ?");
  }

  addressOf(key: string): string | null {
    const row = this.byKey.get(key) as { ip: number } | undefined;
    return row ? intToIp(row.ip) : null;
  }

  /** The key's address, allocating the lowest free one if it has none. */
  allocate(key: string): string {
    return this.db.transaction(() => {
      const have = this.addressOf(key);
      if (have) return have;
      const used = this.used.all(this.plan.firstSandbox, this.plan.lastSandbox) as number[];
      let ip = this.plan.firstSandbox;
      for (const u of used) {
        if (u !== ip) break;
        ip++;
      }
      if (ip > this.plan.lastSandbox) {
        throw new PodflareError("unavailable", "the sandbox network has no free address left; close sandboxes or configure a larger PODFLARE_NET_CIDR");
      }
      this.insert.run(key, ip);
      return intToIp(ip);
    })();
  }

  release(key: string): void {
    this.remove.run(key);
  }

  entries(): Map<string, string> {
    const rows = this.db.prepare("SELECT key, ip FROM net_addresses").all() as { key: string; ip: number }[];
    return new Map(rows.map((r) => [r.key, intToIp(r.ip)]));
  }

  /** Drops addresses outside the current plan (the network was moved to another block). */
  dropOutside(): number {
    return this.db.prepare("DELETE FROM net_addresses WHERE ip NOT BETWEEN ? AND ?").run(this.plan.firstSandbox, this.plan.lastSandbox).changes;
  }
}

export class NetMeta {
  constructor(private readonly db: Db) {}

  get(k: string): string | null {
    const row = this.db.prepare("SELECT v FROM net_meta WHERE k = ?").get(k) as { v: string } | undefined;
    return row?.v ?? null;
  }

  set(k: string, v: string): void {
    this.db.prepare("INSERT INTO net_meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v").run(k, v);
  }
}

