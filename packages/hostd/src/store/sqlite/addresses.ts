// Sandbox addresses and the network's settings in SQLite: the net_addresses and net_meta tables.
import type Database from "better-sqlite3";
import type { AddressTable, NetMetaTable } from "../store.js";

export class SqliteAddressTable implements AddressTable {
  // Prepared once: get runs for every sandbox info and list, allocate/release on every create and close.
  private readonly byKey;
  private readonly used;
  private readonly insert;
  private readonly remove;

  constructor(private readonly db: Database.Database) {
    this.byKey = db.prepare("SELECT ip FROM net_addresses WHERE key = ?");
    this.used = db.prepare("SELECT ip FROM net_addresses WHERE ip BETWEEN ? AND ? ORDER BY ip").pluck();
    this.insert = db.prepare("INSERT INTO net_addresses (key, ip) VALUES (?, ?)");
    this.remove = db.prepare("DELETE FROM net_addresses WHERE key = ?");
  }

  get(key: string): number | null {
    const row = this.byKey.get(key) as { ip: number } | undefined;
    return row ? row.ip : null;
  }

  allocate(key: string, first: number, last: number): number | null {
    return this.db.transaction(() => {
      const have = this.get(key);
      if (have !== null) return have;
      let ip = first;
      for (const u of this.used.all(first, last) as number[]) {
        if (u !== ip) break;
        ip++;
      }
      if (ip > last) return null;
      this.insert.run(key, ip);
      return ip;
    })();
  }

  release(key: string): void {
    this.remove.run(key);
  }

  entries(): Map<string, number> {
    const rows = this.db.prepare("SELECT key, ip FROM net_addresses").all() as { key: string; ip: number }[];
    return new Map(rows.map((r) => [r.key, r.ip]));
  }

  dropOutside(first: number, last: number): number {
    return this.db.prepare("DELETE FROM net_addresses WHERE ip NOT BETWEEN ? AND ?").run(first, last).changes;
  }
}

export class SqliteNetMetaTable implements NetMetaTable {
  constructor(private readonly db: Database.Database) {}

  get(k: string): string | null {
    const row = this.db.prepare("SELECT v FROM net_meta WHERE k = ?").get(k) as { v: string } | undefined;
    return row?.v ?? null;
  }

  set(k: string, v: string): void {
    this.db.prepare("INSERT INTO net_meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v").run(k, v);
  }
}
