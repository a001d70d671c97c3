// Spaces in SQLite: rows of the spaces table, mapped to and from a typed record.
import type Database from "better-sqlite3";
import type { AppliedLimits, NetworkPolicy, SpaceManifest } from "@podflare/protocol";
import type { SpaceRecord, SpaceTable } from "../store.js";

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

export class SqliteSpaceTable implements SpaceTable {
  constructor(private readonly db: Database.Database) {}

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

  delete(id: string): boolean {
    return this.db.prepare(`DELETE FROM spaces WHERE id = ?`).run(id).changes > 0;
  }
}
