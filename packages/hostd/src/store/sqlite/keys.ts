// API keys in SQLite: the api_keys table.
import type Database from "better-sqlite3";
import type { TierName } from "../../auth/tiers.js";
import type { KeyRecord, KeyRef, KeyTable, StoredKey } from "../store.js";

interface Row {
  id: string;
  hash: string;
  name: string;
  tier: string;
  admin: number;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const fromRow = (r: Row): KeyRecord => ({
  id: r.id,
  name: r.name,
  tier: r.tier as TierName,
  admin: r.admin === 1,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class SqliteKeyTable implements KeyTable {
  // Prepared once: byHash, setLastUsed and hasLive run on every request.
  private readonly byHashStmt;
  private readonly touchStmt;
  private readonly anyLive;
  private readonly liveByRef;
  private readonly revokeStmt;
  private readonly revokeIdStmt;
  private readonly countStmt;
  private readonly revokedStmt;

  constructor(private readonly db: Database.Database) {
    this.byHashStmt = db.prepare(`SELECT * FROM api_keys WHERE hash = ?`);
    this.touchStmt = db.prepare(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`);
    this.anyLive = db.prepare(`SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS y`);
    this.liveByRef = db.prepare(`SELECT id FROM api_keys WHERE (id = ? OR hash = ?) AND revoked_at IS NULL`);
    this.revokeStmt = db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR hash = ?) AND revoked_at IS NULL`);
    this.revokeIdStmt = db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL`);
    this.revokedStmt = db.prepare(`SELECT id FROM api_keys WHERE revoked_at IS NOT NULL`);
  }

  insert(k: StoredKey): void {
    this.db
      .prepare(
        `INSERT INTO api_keys (id, hash, name, tier, admin, prefix, created_at, last_used_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(k.id, k.hash, k.name, k.tier, k.admin ? 1 : 0, k.prefix, k.createdAt, k.lastUsedAt, k.revokedAt);
  }

  get(id: string): KeyRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM api_keys WHERE id = ?`).get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  byHash(hash: string): KeyRecord | undefined {
    const row = this.byHashStmt.get(hash) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): KeyRecord[] {
    return (this.db.prepare(`SELECT * FROM api_keys ORDER BY created_at`).all() as Row[]).map(fromRow);
  }

  setLastUsed(id: string, at: number): void {
    this.touchStmt.run(at, id);
  }

  revoke(ref: KeyRef, at: number): boolean {
    return this.revokeStmt.run(at, ref.id, ref.hash).changes > 0;
  }

  revokeUnlessLast(ref: KeyRef, at: number): "revoked" | "not_found" | "last" {
    // IMMEDIATE: takes the write lock before the read, so two revokes (hostd and the CLI) cannot both pass.
    return this.db.transaction(() => {
      const live = this.liveByRef.get(ref.id, ref.hash) as { id: string } | undefined;
      if (!live) return "not_found" as const;
      if (this.countLive() <= 1) return "last" as const;
      this.revokeIdStmt.run(at, live.id);
      return "revoked" as const;
    }).immediate();
  }

  hasLive(): boolean {
    return (this.anyLive.get() as { y: number }).y === 1;
  }

  revokedIds(): string[] {
    return (this.revokedStmt.all() as { id: string }[]).map((r) => r.id);
  }

  countLive(): number {
    return (this.countStmt.get() as { n: number }).n;
  }
}
