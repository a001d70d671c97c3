// Rows of the spaces table: a frozen sandbox's settings and what its freeze kept or lost.
import type { AppliedLimits, NetworkPolicy, SpaceManifest } from "@podflare/protocol";
import type { Db } from "./db.js";

export const spacesMigration = `CREATE TABLE spaces (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  source_id TEXT NOT NULL,
  template TEXT NOT NULL,
  applied_json TEXT NOT NULL,
  env_json TEXT NOT NULL,
  metadata_json TEXT NOT NULL,
  manifest_json TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX spaces_owner ON spaces(owner);`;

/** The frozen sandbox's egress policy, given back on resume. */
export const spacesNetworkMigration = `ALTER TABLE spaces ADD COLUMN network_json TEXT;`;

/** What the Space takes on disk (its sandbox's writes at freeze), counted against the owner's cap. */
export const spacesBytesMigration = `ALTER TABLE spaces ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;`;

export interface SpaceRecord {
  id: string;
  owner: string;
  sourceId: string;
  template: string;
  applied: AppliedLimits;
  env: Record<string, string>;
  metadata: Record<string, string>;
  manifest: SpaceManifest;
  network: NetworkPolicy | null;
  /** "freeze" (asked for), "idle" or "lifetime" (the reaper). */
  reason: string;
  createdAt: number;
  bytes: number;
}

interface Row {
  id: string;
  owner: string;
  source_id: string;
  template: string;
  applied_json: string;
  env_json: string;
  metadata_json: string;
  manifest_json: string;
  network_json: string | null;
  reason: string;
  created_at: number;
  bytes: number;
}

const fromRow = (r: Row): SpaceRecord => ({
  id: r.id,
  owner: r.owner,
  sourceId: r.source_id,
  template: r.template,
  applied: JSON.parse(r.applied_json) as AppliedLimits,
  env: JSON.parse(r.env_json) as Record<string, string>,
  metadata: JSON.parse(r.metadata_json) as Record<string, string>,
  manifest: JSON.parse(r.manifest_json) as SpaceManifest,
  network: r.network_json ? (JSON.parse(r.network_json) as NetworkPolicy) : null,
  reason: r.reason,
  createdAt: r.created_at,
  bytes: r.bytes,
});

export class SpaceStore {
  constructor(private readonly db: Db) {}

  insert(s: SpaceRecord): void {
    this.db
      .prepare(
        `INSERT INTO spaces (id, owner, source_id, template, applied_json, env_json, metadata_json, manifest_json, network_json, reason, created_at, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.id, s.owner, s.sourceId, s.template, JSON.stringify(s.applied), JSON.stringify(s.env), JSON.stringify(s.metadata), JSON.stringify(s.manifest),
        s.network ? JSON.stringify(s.network) : null, s.reason, s.createdAt, s.bytes);
  }

  get(id: string): SpaceRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM spaces WHERE id = ?`).get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(owner?: string): SpaceRecord[] {
    const rows = (owner === undefined
      ? this.db.prepare(`SELECT * FROM spaces ORDER BY created_at`).all()
      : this.db.prepare(`SELECT * FROM spaces WHERE owner = ? ORDER BY created_at`).all(owner)) as Row[];
    return rows.map(fromRow);
  }

  /** Removes the row; true when this call removed it (so two resumes cannot both consume it). */
  delete(id: string): boolean {
    return this.db.prepare(`DELETE FROM spaces WHERE id = ?`).run(id).changes > 0;
  }
}
