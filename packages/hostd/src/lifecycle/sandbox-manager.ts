// Live sandboxes: create, look up (owner-scoped), exec one at a time, files, delete, and
// re-adoption of the sandboxes that kept running while hostd was down.
import os from "node:os";
import crypto from "node:crypto";
import type { Readable } from "node:stream";
import {
  PodflareError,
  type AppliedLimits,
  type CreateSandboxRequest,
  type CreateSandboxResponse,
  type ExecRequest,
  type SandboxInfo,
} from "@podflare/protocol";
import type { HostdConfig } from "../config.js";
import { runExec, type ExecOutput } from "../runtime/exec.js";
import { readPath, removePath, uploadFile, type ReadResult } from "../runtime/files.js";
import type { Runtime, RuntimeSandbox, RuntimeSandboxSpec } from "../runtime/types.js";
import type { SandboxRecord, SandboxStore } from "../store/sandboxes.js";

export interface TemplateCatalog {
  has(name: string): Promise<boolean> | boolean;
}

interface LiveSandbox {
  record: SandboxRecord;
  rt: RuntimeSandbox;
  /** Tail of this sandbox's exec queue: one exec at a time, the rest wait in order. */
  execTail: Promise<unknown>;
}

export function newSandboxId(): string {
  return `sbx_${crypto.randomBytes(16).toString("hex")}`;
}

export class SandboxManager {
  private readonly live = new Map<string, LiveSandbox>();
  private creating = 0;

  constructor(
    private readonly cfg: HostdConfig,
    private readonly store: SandboxStore,
    private readonly runtime: Runtime,
    private readonly templates: TemplateCatalog,
    private readonly log: (msg: string) => void,
  ) {}

  /** Re-adopts sandboxes that survived a restart and removes what a crash left behind. */
  async start(): Promise<{ adopted: string[]; removed: string[] }> {
    const adopted: string[] = [];
    for (const record of this.store.list()) {
      let rt: RuntimeSandbox | null = null;
      if (record.initPid !== null && record.initStartTime !== null) {
        try {
          rt = await this.runtime.adopt(this.specOf(record), { initPid: record.initPid, initStartTime: record.initStartTime });
        } catch (err) {
          this.log(`could not re-adopt ${record.id}: ${(err as Error).message}`);
        }
      }
      if (rt) {
        this.live.set(record.id, { record, rt, execTail: Promise.resolve() });
        adopted.push(record.id);
      } else {
        this.store.delete(record.id);
      }
    }
    const removed = await this.runtime.reconcile(new Set(adopted));
    return { adopted, removed };
  }

  get count(): number {
    return this.live.size;
  }

  async create(owner: string, req: CreateSandboxRequest): Promise<CreateSandboxResponse> {
    const template = req.template ?? this.cfg.defaultTemplate;
    if (!(await this.templates.has(template))) {
      throw new PodflareError(
        "template_not_found",
        `template ${JSON.stringify(template)} does not exist on this host; build it with \`podflare template build ${template}\``,
      );
    }
    if (this.live.size + this.creating >= this.cfg.maxSandboxes) {
      throw new PodflareError(
        "concurrency_limit",
        `this host runs at most ${this.cfg.maxSandboxes} sandboxes at once; close one and retry`,
        { "Retry-After": "1" },
      );
    }
    const { applied, clamped, warnings } = this.applyLimits(req);
    const id = newSandboxId();
    const now = Date.now();
    const record: SandboxRecord = {
      id,
      owner,
      template,
      state: "creating",
      parentId: null,
      applied,
      metadata: req.metadata ?? {},
      env: req.env ?? {},
      initPid: null,
      initStartTime: null,
      createdAt: now,
      lastActiveAt: now,
    };
    this.creating++;
    let rt: RuntimeSandbox;
    try {
      rt = await this.runtime.create(this.specOf(record));
    } finally {
      this.creating--;
    }
    record.state = "ready";
    record.initPid = rt.handle.initPid;
    record.initStartTime = rt.handle.initStartTime;
    this.store.insert(record);
    this.live.set(id, { record, rt, execTail: Promise.resolve() });
    return { id, state: "ready", template, applied, clamped, warnings };
  }

  info(owner: string, id: string): SandboxInfo {
    return toInfo(this.get(owner, id).record);
  }

  list(owner: string): SandboxInfo[] {
    return [...this.live.values()].filter((s) => s.record.owner === owner).map((s) => toInfo(s.record));
  }

  async delete(owner: string, id: string): Promise<void> {
    const sb = this.get(owner, id);
    this.live.delete(id);
    this.store.delete(id);
    await sb.rt.destroy();
  }

  /** Runs one exec after those already queued on the sandbox; resolves with the exit code. */
  exec(owner: string, id: string, req: Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest,
       output: ExecOutput, signal?: AbortSignal): Promise<number> {
    const sb = this.get(owner, id);
    const run = async () => {
      if (signal?.aborted) return -1;
      this.touch(sb);
      try {
        return await runExec(
          sb.rt,
          {
            code: req.code,
            language: req.language,
            timeoutMs: req.timeout_ms,
            killGraceMs: this.cfg.exec.killGraceMs,
            env: req.env,
            cwd: req.cwd,
            signal,
            memoryMb: sb.record.applied.memory_mb,
          },
          output,
        );
      } finally {
        this.touch(sb);
      }
    };
    const result = sb.execTail.then(run, run);
    sb.execTail = result.catch(() => undefined);
    return result;
  }

  async upload(owner: string, id: string, path: string, body: Readable, maxBytes: number): Promise<void> {
    const sb = this.get(owner, id);
    this.touch(sb);
    await uploadFile(sb.rt, path, body, maxBytes);
  }

  async read(owner: string, id: string, path: string): Promise<ReadResult> {
    const sb = this.get(owner, id);
    this.touch(sb);
    return readPath(sb.rt, path);
  }

  async remove(owner: string, id: string, path: string): Promise<void> {
    const sb = this.get(owner, id);
    this.touch(sb);
    await removePath(sb.rt, path);
  }

  /** Closes the guest connections without touching the sandboxes (hostd shutdown). */
  detachAll(): void {
    for (const sb of this.live.values()) sb.rt.detach();
    this.live.clear();
  }

  private get(owner: string, id: string): LiveSandbox {
    const sb = this.live.get(id);
    // Another owner's sandbox answers exactly like a missing one.
    if (!sb || sb.record.owner !== owner) {
      throw new PodflareError("sandbox_not_found", `sandbox ${id} not found; it may have been closed or never existed`);
    }
    return sb;
  }

  private touch(sb: LiveSandbox): void {
    sb.record.lastActiveAt = Date.now();
    this.store.touch(sb.record.id, sb.record.lastActiveAt);
  }

  private specOf(record: SandboxRecord): RuntimeSandboxSpec {
    return {
      id: record.id,
      template: record.template,
      env: record.env,
      limits: {
        memoryMb: record.applied.memory_mb,
        vcpus: record.applied.vcpus,
        diskMb: record.applied.disk_mb,
        pidsMax: this.cfg.defaults.pidsMax,
      },
    };
  }

  private applyLimits(req: CreateSandboxRequest): { applied: AppliedLimits; clamped: string[]; warnings: string[] } {
    const d = this.cfg.defaults;
    const clamped: string[] = [];
    const warnings: string[] = [];
    const hostMemoryMb = Math.floor(os.totalmem() / 1024 / 1024);
    const hostCpus = os.availableParallelism();
    const cap = (field: string, value: number, max: number) => {
      if (value > max) {
        clamped.push(field);
        return max;
      }
      return value;
    };
    const applied: AppliedLimits = {
      memory_mb: cap("memory_mb", req.memory_mb ?? d.memoryMb, hostMemoryMb),
      disk_mb: req.disk_mb ?? d.diskMb,
      vcpus: cap("vcpus", req.vcpus ?? d.vcpus, hostCpus),
      idle_timeout_s: req.idle_timeout_s ?? d.idleTimeoutS,
      max_lifetime_s: req.max_lifetime_s ?? d.maxLifetimeS,
      egress: false,
      persistent: false,
    };
    if (req.egress !== false) {
      warnings.push("egress: outbound networking is not available on this host yet; the sandbox has loopback only");
    }
    if (req.persistent) {
      warnings.push("persistent: Spaces are not available on this host yet; the sandbox is not frozen on idle");
    }
    return { applied, clamped, warnings };
  }
}

function toInfo(r: SandboxRecord): SandboxInfo {
  return {
    id: r.id,
    state: r.state,
    template: r.template,
    created_at: new Date(r.createdAt).toISOString(),
    last_active_at: new Date(r.lastActiveAt).toISOString(),
    applied: r.applied,
    metadata: r.metadata,
    parent_id: r.parentId,
  };
}

