// API keys in the metadata store: `pf_live_` + 40 random base62 characters, kept only as a
// SHA-256 hash with a short display prefix, a name, a tier, and created/last-used/revoked times.
import crypto from "node:crypto";
import type { Db } from "../store/db.js";
import type { TierName } from "./tiers.js";

export const KEY_PREFIX = "pf_live_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export interface KeyRecord {
  id: string;
  name: string;
  tier: TierName;
  admin: boolean;
  /** The first characters of the key, for people to tell keys apart; never enough to use it. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

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

export const keysMigration = `CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  admin INTEGER NOT NULL DEFAULT 0,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);`;

export function hashKey(key: string): string {
  return crypto.createHash("sha256").update(key).digest("hex");
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function fromRow(r: Row): KeyRecord {
  return {
    id: r.id,
    name: r.name,
    tier: r.tier as TierName,
    admin: r.admin === 1,
    prefix: r.prefix,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export class KeyStore {
  private readonly byHash;
  private readonly touchStmt;
  private readonly anyLive;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare(`SELECT * FROM api_keys WHERE hash = ?`);
    this.touchStmt = db.prepare(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`);
    this.anyLive = db.prepare(`SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS y`);
  }

  /** Creates a key; the plain key is returned this once and never stored. */
  create(opts: { name: string; tier: TierName; admin?: boolean }): { key: string; record: KeyRecord } {
    const key = KEY_PREFIX + randomBase62(40);
    const row: Row = {
      id: `key_${crypto.randomBytes(6).toString("hex")}`,
      hash: hashKey(key),
      name: opts.name,
      tier: opts.tier,
      admin: opts.admin ? 1 : 0,
      prefix: key.slice(0, KEY_PREFIX.length + 4),
      created_at: Date.now(),
      last_used_at: null,
      revoked_at: null,
    };
    this.db
      .prepare(
        `INSERT INTO api_keys (id, hash, name, tier, admin, prefix, created_at, last_used_at, revoked_at)
         VALUES (@id, @hash, @name, @tier, @admin, @prefix, @created_at, @last_used_at, @revoked_at)`,
      )
      .run(row);
    return { key, record: fromRow(row) };
  }

  /** The live (not revoked) key with this plain value, or undefined. Read on every request, so a revocation holds at once. */
  verify(key: string): KeyRecord | undefined {
    const row = this.byHash.get(hashKey(key)) as Row | undefined;
    if (!row || row.revoked_at !== null) return undefined;
    const now = Date.now();
    // last_used_at to the minute: one write a minute per key, not one per request.
    if (row.last_used_at === null || now - row.last_used_at > 60_000) this.touchStmt.run(now, row.id);
    return fromRow(row);
  }

  list(): KeyRecord[] {
    return (this.db.prepare(`SELECT * FROM api_keys ORDER BY created_at`).all() as Row[]).map(fromRow);
  }

  get(id: string): KeyRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM api_keys WHERE id = ?`).get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Revokes by id or by the plain key; true when a live key was revoked. */
  revoke(idOrKey: string): boolean {
    const r = this.db
      .prepare(`UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR hash = ?) AND revoked_at IS NULL`)
      .run(Date.now(), idOrKey, hashKey(idOrKey));
    return r.changes > 0;
  }

  /**
   * Revokes like revoke(), but refuses ("last") when it would leave no live stored key, checked
   * and done in one transaction so two revokes at once cannot both pass.
   */
  revokeUnlessLast(idOrKey: string): "revoked" | "not_found" | "last" {
    return this.db.transaction(() => {
      const live = this.db
        .prepare(`SELECT id FROM api_keys WHERE (id = ? OR hash = ?) AND revoked_at IS NULL`)
        .get(idOrKey, hashKey(idOrKey)) as { id: string } | undefined;
      if (!live) return "not_found" as const;
      if (this.count() <= 1) return "last" as const;
      this.revoke(live.id);
      return "revoked" as const;
    }).immediate();
  }

  /** Whether any live key exists: one cheap prepared query, run per request while auth waits for the first key. */
  hasLiveKeys(): boolean {
    return (this.anyLive.get() as { y: number }).y === 1;
  }

  count(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL`).get() as { n: number }).n;
  }
}
