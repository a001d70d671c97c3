// Sandbox records in SQLite: rows of the sandboxes table, mapped to and from a typed record.
import type Database from "better-sqlite3";
import type { AppliedLimits, NetworkPolicy, SandboxState } from "@podflare/protocol";
import type { SandboxRecord, SandboxTable } from "../store.js";

interface Row {
  id: string;
  owner: string;
  template: string;
  state: string;
  parent_id: string | null;
  applied_json: string;
  metadata_json: string;
  env_json: string;
  init_pid: number | null;
  init_start_time: string | null;
  runtime_key: string | null;
  family_id: string | null;
  family_pid: number | null;
  family_start_time: string | null;
  outer_family_json: string | null;
  network_json: string | null;
  forked_from: string | null;
  paused_by_call: number;
  created_at: number;
  last_active_at: number;
}

function fromRow(r: Row): SandboxRecord {
  return {
    id: r.id,
    owner: r.owner,
    template: r.template,
    state: r.state as SandboxState,
    parentId: r.parent_id,
    applied: JSON.parse(r.applied_json) as AppliedLimits,
    metadata: JSON.parse(r.metadata_json) as Record<string, string>,
    env: JSON.parse(r.env_json) as Record<string, string>,
    initPid: r.init_pid,
    initStartTime: r.init_start_time,
    runtimeKey: r.runtime_key ?? r.id,
    familyId: r.family_id,
    familyPid: r.family_pid,
    familyStartTime: r.family_start_time,
    outerFamily: r.outer_family_json ? (JSON.parse(r.outer_family_json) as SandboxRecord["outerFamily"]) : null,
    network: r.network_json ? (JSON.parse(r.network_json) as NetworkPolicy) : null,
    forkedFrom: r.forked_from ?? null,
    pausedByCall: r.paused_by_call === 1,
    createdAt: r.created_at,
    lastActiveAt: r.last_active_at,
  };
}

export class SqliteSandboxTable implements SandboxTable {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly listOwnerStmt;
  private readonly deleteStmt;
  private readonly touchStmt;
  private readonly stateStmt;
  private readonly initStmt;
  private readonly mergeStmt;
  private readonly reparentStmt;
  private readonly adoptStmt;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO sandboxes (id, owner, template, state, parent_id, applied_json, metadata_json, env_json,
         init_pid, init_start_time, runtime_key, family_id, family_pid, family_start_time, outer_family_json, network_json, forked_from, paused_by_call, created_at, last_active_at)
       VALUES (@id, @owner, @template, @state, @parent_id, @applied_json, @metadata_json, @env_json,
         @init_pid, @init_start_time, @runtime_key, @family_id, @family_pid, @family_start_time, @outer_family_json, @network_json, @forked_from, @paused_by_call, @created_at, @last_active_at)`,
    );
    this.getStmt = db.prepare(`SELECT * FROM sandboxes WHERE id = ?`);
    this.listStmt = db.prepare(`SELECT * FROM sandboxes ORDER BY created_at`);
    this.listOwnerStmt = db.prepare(`SELECT * FROM sandboxes WHERE owner = ? ORDER BY created_at`);
    this.deleteStmt = db.prepare(`DELETE FROM sandboxes WHERE id = ?`);
    this.touchStmt = db.prepare(`UPDATE sandboxes SET last_active_at = ? WHERE id = ?`);
    this.stateStmt = db.prepare(`UPDATE sandboxes SET state = ?, paused_by_call = ? WHERE id = ?`);
    this.initStmt = db.prepare(`UPDATE sandboxes SET init_pid = ?, init_start_time = ? WHERE id = ?`);
    this.mergeStmt = db.prepare(
      `UPDATE sandboxes SET runtime_key = @runtime_key, init_pid = @init_pid, init_start_time = @init_start_time,
         family_id = @family_id, family_pid = @family_pid, family_start_time = @family_start_time, outer_family_json = @outer_family_json,
         template = @template, applied_json = @applied_json, env_json = @env_json, network_json = @network_json WHERE id = @id`,
    );
    this.reparentStmt = db.prepare(`UPDATE sandboxes SET parent_id = ? WHERE parent_id = ?`);
    this.adoptStmt = db.prepare(`UPDATE sandboxes SET parent_id = ?, forked_from = ? WHERE parent_id = ?`);
  }

  merge(parentId: string, winner: SandboxRecord): void {
    this.db.transaction(() => {
      this.mergeStmt.run({
        id: parentId,
        runtime_key: winner.runtimeKey,
        init_pid: winner.initPid,
        init_start_time: winner.initStartTime,
        family_id: winner.familyId,
        family_pid: winner.familyPid,
        family_start_time: winner.familyStartTime,
        outer_family_json: winner.outerFamily ? JSON.stringify(winner.outerFamily) : null,
        template: winner.template,
        applied_json: JSON.stringify(winner.applied),
        env_json: JSON.stringify(winner.env),
        network_json: winner.network ? JSON.stringify(winner.network) : null,
      });
      this.deleteStmt.run(winner.id);
      this.reparentStmt.run(parentId, winner.id);
    })();
  }

  insert(r: SandboxRecord): void {
    this.insertStmt.run({
      id: r.id,
      owner: r.owner,
      template: r.template,
      state: r.state,
      parent_id: r.parentId,
      applied_json: JSON.stringify(r.applied),
      metadata_json: JSON.stringify(r.metadata),
      env_json: JSON.stringify(r.env),
      init_pid: r.initPid,
      init_start_time: r.initStartTime,
      runtime_key: r.runtimeKey,
      family_id: r.familyId,
      family_pid: r.familyPid,
      family_start_time: r.familyStartTime,
      outer_family_json: r.outerFamily ? JSON.stringify(r.outerFamily) : null,
      network_json: r.network ? JSON.stringify(r.network) : null,
      forked_from: r.forkedFrom,
      paused_by_call: r.pausedByCall ? 1 : 0,
      created_at: r.createdAt,
      last_active_at: r.lastActiveAt,
    });
  }

  get(id: string): SandboxRecord | undefined {
    const row = this.getStmt.get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(owner?: string): SandboxRecord[] {
    const rows = (owner === undefined ? this.listStmt.all() : this.listOwnerStmt.all(owner)) as Row[];
    return rows.map(fromRow);
  }

  delete(id: string): void {
    this.db.transaction(() => {
      // Its children take its place under its parent, at the fork point it had (store.ts).
      const gone = this.db.prepare(`SELECT parent_id, forked_from FROM sandboxes WHERE id = ?`).get(id) as { parent_id: string | null; forked_from: string | null } | undefined;
      if (gone) this.adoptStmt.run(gone.parent_id, gone.forked_from, id);
      this.deleteStmt.run(id);
    })();
  }

  touch(id: string, at: number): void {
    this.touchStmt.run(at, id);
  }

  setState(id: string, state: SandboxState, pausedByCall = false): void {
    this.stateStmt.run(state, pausedByCall ? 1 : 0, id);
  }

  setApplied(id: string, applied: AppliedLimits): void {
    this.db.prepare(`UPDATE sandboxes SET applied_json = ? WHERE id = ?`).run(JSON.stringify(applied), id);
  }

  setNetwork(id: string, applied: AppliedLimits, network: NetworkPolicy | null): void {
    this.db.prepare(`UPDATE sandboxes SET applied_json = ?, network_json = ? WHERE id = ?`)
      .run(JSON.stringify(applied), network ? JSON.stringify(network) : null, id);
  }

  setInit(id: string, pid: number, startTime: string): void {
    this.initStmt.run(pid, startTime, id);
  }
}
