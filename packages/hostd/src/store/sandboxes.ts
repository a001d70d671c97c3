// Rows of the sandboxes table, mapped to and from a typed record.
import type { AppliedLimits, SandboxState } from "@podflare/protocol";
import type { Db } from "./db.js";

export interface SandboxRecord {
  id: string;
  owner: string;
  template: string;
  state: SandboxState;
  parentId: string | null;
  applied: AppliedLimits;
  metadata: Record<string, string>;
  env: Record<string, string>;
  initPid: number | null;
  initStartTime: string | null;
  createdAt: number;
  lastActiveAt: number;
}

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
    createdAt: r.created_at,
    lastActiveAt: r.last_active_at,
  };
}

export class SandboxStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly listOwnerStmt;
  private readonly deleteStmt;
  private readonly touchStmt;
  private readonly stateStmt;
  private readonly initStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO sandboxes (id, owner, template, state, parent_id, applied_json, metadata_json, env_json,
         init_pid, init_start_time, created_at, last_active_at)
       VALUES (@id, @owner, @template, @state, @parent_id, @applied_json, @metadata_json, @env_json,
         @init_pid, @init_start_time, @created_at, @last_active_at)`,
    );
    this.getStmt = db.prepare(`SELECT * FROM sandboxes WHERE id = ?`);
    this.listStmt = db.prepare(`SELECT * FROM sandboxes ORDER BY created_at`);
    this.listOwnerStmt = db.prepare(`SELECT * FROM sandboxes WHERE owner = ? ORDER BY created_at`);
    this.deleteStmt = db.prepare(`DELETE FROM sandboxes WHERE id = ?`);
    this.touchStmt = db.prepare(`UPDATE sandboxes SET last_active_at = ? WHERE id = ?`);
    this.stateStmt = db.prepare(`UPDATE sandboxes SET state = ? WHERE id = ?`);
    this.initStmt = db.prepare(`UPDATE sandboxes SET init_pid = ?, init_start_time = ? WHERE id = ?`);
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
    this.deleteStmt.run(id);
  }

  touch(id: string, at: number): void {
    this.touchStmt.run(at, id);
  }

  setState(id: string, state: SandboxState): void {
    this.stateStmt.run(state, id);
  }

  setInit(id: string, pid: number, startTime: string): void {
    this.initStmt.run(pid, startTime, id);
  }
}
