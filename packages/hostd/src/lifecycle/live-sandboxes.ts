// The sandboxes live on this host and what every call on one goes through: the owner-scoped
// lookup, its job queue, its activity clock and the wake from paused.
import { PodflareError, newTaggedId, type SandboxInfo } from "@podflare/protocol";
import { LOCAL_OWNER } from "../auth/authenticator.js";
import type { HostdConfig } from "../config.js";
import { parsePolicy } from "../network/policy.js";
import type { Runtime, RuntimeSandbox, RuntimeSandboxSpec } from "../runtime/types.js";
import type { SandboxRecord, SandboxTable } from "../store/store.js";
import type { Clock } from "./clock.js";
import { KeyCpuShares } from "./key-cpu-shares.js";
import { notFound, toInfo } from "./sandbox-info.js";
import { SerialQueue } from "./serial-queue.js";

export interface LiveSandbox {
  record: SandboxRecord;
  rt: RuntimeSandbox;
  /** This sandbox's execs, forks and freezes: one at a time, the rest wait in order. */
  queue: SerialQueue;
  /**
   * Its state changes: pause, resume, restart_repl, kill_processes, a fork's copy, merge_into
   * and the close. One at a time, so none is cut in half by another (a close never kills a
   * fork's source midway, a pause never freezes a kernel being started); execs do not hold it.
   */
  changes: SerialQueue;
  /** restart_repl calls so far: a call whose kernel went away meanwhile answers 409, not 500. */
  restarts: number;
  /** Execs running now: the reaper never pauses a busy sandbox. */
  busy: number;
  /** Calls queued (enqueue) whose turn has not come: a pause then wakes the sandbox at once. */
  waiting: number;
  /** Port proxy connections open now: they hold the idle clock (not max_lifetime_s). */
  proxied?: number;
  /** Aborted at max_lifetime_s: interrupts the running exec and refuses queued ones. */
  expiry: AbortController;
  /** Aborted when the sandbox is closed: a freeze saving its REPL stops waiting for the guest. */
  closing: AbortController;
}

/** A fresh sandbox id, starting with the region's tag when the hostd has one (docs/edge.md). */
export function newSandboxId(regionTag?: string): string {
  return newTaggedId("sbx", regionTag);
}

export function expiredError(r: SandboxRecord): PodflareError {
  return new PodflareError(
    "sandbox_expired",
    `sandbox ${r.id} reached its ${r.applied.lifetime_s !== undefined && r.applied.lifetime_s < r.applied.max_lifetime_s ? `lifetime_s=${r.applied.lifetime_s}` : `max_lifetime_s=${r.applied.max_lifetime_s}`} and is being ${r.applied.persistent ? "frozen to a Space (GET /v1/spaces)" : "closed"}; create a new sandbox`,
  );
}

export class LiveSandboxes {
  private readonly live = new Map<string, LiveSandbox>();

  constructor(
    private readonly cfg: HostdConfig,
    private readonly store: SandboxTable,
    private readonly runtime: Runtime,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.live.size;
  }

  values(): IterableIterator<LiveSandbox> {
    return this.live.values();
  }

  /** The live sandbox `id`, whoever owns it. */
  find(id: string): LiveSandbox | undefined {
    return this.live.get(id);
  }

  /** The owner's live sandbox `id`; another owner's answers exactly like a missing one. */
  get(owner: string, id: string): LiveSandbox {
    const sb = this.live.get(id);
    if (!sb || sb.record.owner !== owner) throw notFound(id);
    return sb;
  }

  /** The owner's live sandboxes (reservations for those being made are counted apart). */
  countOf(owner: string): number {
    let n = 0;
    for (const s of this.live.values()) if (s.record.owner === owner) n++;
    return n;
  }

  /** The pace of each owner's program output, or undefined for none (hostd.ts sets it from its config). */
  outputMeterFor: (owner: string) => ((bytes: number) => number) | undefined = () => undefined;

  /** Each key's CPU weight, divided among its live sandboxes. */
  readonly cpuShares = new KeyCpuShares();

  track(record: SandboxRecord, rt: RuntimeSandbox): void {
    rt.outputMeter = this.outputMeterFor(record.owner);
    this.cpuShares.join(record.owner, rt);
    this.live.set(record.id, { record, rt, queue: new SerialQueue(), changes: new SerialQueue(), busy: 0, waiting: 0, restarts: 0, expiry: new AbortController(), closing: new AbortController() });
  }

  /** Whether `sb` is still in the table: false once it is deleted (or merged away), even while its close runs. */
  isLive(sb: LiveSandbox): boolean {
    return this.live.get(sb.record.id) === sb;
  }

  /**
   * Runs `fn` on the sandbox; a failure after the sandbox was deleted meanwhile (its kernel
   * killed, its socket gone) is that sandbox's 404, not the runtime's error.
   */
  async guard<T>(sb: LiveSandbox, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!this.isLive(sb)) throw notFound(sb.record.id);
      throw err;
    }
  }

  /**
   * Runs `fn` as the sandbox's only state change (see `changes`), once those before it are
   * done, on a live sandbox (404 if it was deleted meanwhile); `awake`: resumed first if paused.
   */
  exclusive<T>(sb: LiveSandbox, fn: () => Promise<T>, awake = true): Promise<T> {
    return sb.changes.run(() =>
      this.guard(sb, async () => {
        if (!this.isLive(sb)) throw notFound(sb.record.id);
        if (awake) await this.resumeNow(sb);
        return fn();
      }),
    );
  }

  remove(id: string): void {
    const sb = this.live.get(id);
    if (sb) this.cpuShares.leave(sb.record.owner, sb.rt);
    this.live.delete(id);
  }

  clear(): void {
    this.live.clear();
    this.cpuShares.clear();
  }

  /**
   * Runs `fn` after the work already queued on the sandbox (execs, forks, freezes: one at a
   * time, in order), with the sandbox awake and marked busy so the reaper leaves it alone.
   */
  enqueue<T>(sb: LiveSandbox, fn: () => Promise<T>): Promise<T> {
    // A call on a paused sandbox wakes it when it comes, not only when its turn comes: the job
    // ahead of it may be one the pause froze, which would otherwise never end.
    if (sb.record.state === "paused") void this.wake(sb).catch(() => undefined);
    sb.waiting++;
    return sb.queue.run(() =>
      this.guard(sb, async () => {
        sb.waiting--;
        if (!this.isLive(sb)) throw notFound(sb.record.id);
        await this.wake(sb);
        sb.busy++;
        try {
          return await fn();
        } finally {
          sb.busy--;
          this.touch(sb);
        }
      }),
    );
  }

  /** Marks activity and resumes a paused sandbox: any call on it wakes it transparently. */
  async wake(sb: LiveSandbox): Promise<void> {
    this.touch(sb);
    if (sb.record.state === "paused") await this.exclusive(sb, async () => undefined);
  }

  /** Resumes a paused sandbox; only inside `exclusive`, which it must not wait for. */
  private async resumeNow(sb: LiveSandbox): Promise<void> {
    if (sb.record.state !== "paused") return;
    await sb.rt.resume();
    this.setState(sb, "ready");
  }

  /** `byCall`: a pause asked for by a call, which the reaper keeps (SandboxRecord.pausedByCall). */
  setState(sb: LiveSandbox, state: SandboxRecord["state"], byCall = false): void {
    sb.record.state = state;
    sb.record.pausedByCall = state === "paused" && byCall;
    this.store.setState(sb.record.id, state, sb.record.pausedByCall);
  }

  touch(sb: LiveSandbox): void {
    sb.record.lastActiveAt = this.clock.now();
    this.store.touch(sb.record.id, sb.record.lastActiveAt);
  }

  describe(sb: LiveSandbox): SandboxInfo {
    return toInfo(sb.record, this.runtime.addressOf(sb.rt));
  }

  /** What the runtime is asked to start (or find again) for a record. */
  specOf(record: SandboxRecord): RuntimeSandboxSpec {
    return {
      id: record.runtimeKey,
      template: record.template,
      env: record.env,
      limits: {
        memoryMb: record.applied.memory_mb,
        vcpus: record.applied.vcpus,
        diskMb: record.applied.disk_mb,
        pidsMax: this.cfg.defaults.pidsMax,
      },
      network: { egress: record.applied.egress, policy: parsePolicy(record.network) },
      owner: tenantOf(record.owner),
    };
  }
}

/** The owner whose share of the pool a sandbox counts against: none for the local caller (no keys). */
export function tenantOf(owner: string): string | undefined {
  return owner === LOCAL_OWNER ? undefined : owner;
}
