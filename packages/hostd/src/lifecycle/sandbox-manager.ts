// Live sandboxes: create, look up (owner-scoped), exec one at a time, files, delete, and
// re-adoption of the sandboxes that kept running while hostd was down. The table of live
// sandboxes and their queues: live-sandboxes.ts; fork and merge_into: fork-merge.ts.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import {
  PodflareError,
  type CreateSandboxRequest,
  type CreateSandboxResponse,
  type ExecRequest,
  type SandboxInfo,
  type SetNetworkRequest,
} from "@podflare/protocol";
import { isOpen, parsePolicy, policyToWire } from "../network/policy.js";
import { applyLimits, networkOf } from "./create-request.js";
import type { ForkResponse } from "./fork-child.js";
import { handleOf, setHandle } from "./runtime-handle.js";
import { notFound } from "./sandbox-info.js";
import type { HostdConfig } from "../config.js";
import { tiers, type TierName } from "../auth/tiers.js";
import type { UsageReport, UsageStore } from "./usage.js";
import type { WarmPool } from "./warm-pool.js";
import { Reservations, type Caps } from "./reservations.js";
import type { LifecycleView } from "./lifecycle-view.js";
import { systemClock, type Clock } from "./clock.js";
import { forkQueued, mergeQueued, type ForkMergeDeps } from "./fork-merge.js";
import { expiredError, LiveSandboxes, newSandboxId } from "./live-sandboxes.js";
import { runExec, type ExecFlow, type ExecOutput, type ExecRichOutput } from "../runtime/exec.js";
import { readPath, removePath, uploadFile, type ReadResult } from "../runtime/files.js";
import { openPortStream } from "../runtime/port-stream.js";
import { requireContext } from "../runtime/contexts.js";
import type { Runtime, RuntimeSandbox } from "../runtime/types.js";
import type { SandboxRecord, SandboxTable } from "../store/store.js";

export type { ForkResponse };
export { newSandboxId };

export interface TemplateCatalog {
  has(name: string): Promise<boolean> | boolean;
}

export class SandboxManager {
  private readonly live: LiveSandboxes;
  /** Sandboxes being made, so racing creates and forks cannot pass a concurrency cap. */
  private readonly slots = new Reservations((owner) => (owner === undefined ? this.live.size : this.live.countOf(owner)));
  private making = 0;
  private readonly forks: ForkMergeDeps;

  constructor(
    private readonly cfg: HostdConfig,
    private readonly store: SandboxTable,
    private readonly runtime: Runtime,
    private readonly templates: TemplateCatalog,
    private readonly log: (msg: string) => void,
    private readonly usage?: UsageStore,
    private readonly pool?: WarmPool,
    private readonly clock: Clock = systemClock,
  ) {
    this.live = new LiveSandboxes(cfg, store, runtime, clock);
    this.forks = { live: this.live, store, runtime, clock, usage, countMaking: (delta) => (this.making += delta), regionTag: cfg.regionTag };
  }


  /** Re-adopts sandboxes that survived a restart and removes what a crash left behind. */
  async start(): Promise<{ adopted: string[]; removed: string[] }> {
    const adopted: string[] = [];
    for (const record of this.store.list()) {
      let rt: RuntimeSandbox | null = null;
      if (record.initPid !== null && record.initStartTime !== null) {
        try {
          rt = await this.runtime.adopt(this.live.specOf(record), handleOf(record), { paused: record.state === "paused" });
        } catch (err) {
          this.log(`could not re-adopt ${record.id}: ${(err as Error).message}`);
        }
      }
      if (rt) {
        this.live.track(record, rt);
        adopted.push(record.id);
      } else {
        this.store.delete(record.id);
      }
    }
    const keys = new Set([...this.live.values()].map((s) => s.record.runtimeKey));
    const removed = await this.runtime.reconcile(keys);
    return { adopted, removed };
  }

  /**
   * User creates and forks being made right now (the warm pool waits for them); unlike the
   * reservations, a fork still queued behind an exec does not count.
   */
  get creatingNow(): number {
    return this.making;
  }

  get count(): number {
    return this.live.size;
  }

  /** The owner's live sandboxes. */
  countOf(owner: string): number {
    return this.live.countOf(owner);
  }

  async create(
    owner: string,
    req: CreateSandboxRequest,
    tierName: TierName = "enterprise",
    from: { space?: string } = {},
  ): Promise<CreateSandboxResponse> {
    const tier = tiers[tierName];
    if (req.persistent && !tier.persistentSpaces) {
      throw new PodflareError("forbidden", `persistent Spaces are not part of the ${tierName} tier; create without persistent, or use a pro key`);
    }
    // Checked and reserved in one step, before any await: racing creates see each other's slots.
    const slot = this.slots.reserve(owner, 1, this.createCaps(tierName));
    this.making++;
    try {
      return await this.createReserved(owner, req, tierName, from);
    } finally {
      this.making--;
      slot.release();
    }
  }

  private async createReserved(owner: string, req: CreateSandboxRequest, tierName: TierName, from: { space?: string }): Promise<CreateSandboxResponse> {
    const template = req.template ?? this.cfg.defaultTemplate;
    if (!(await this.templates.has(template))) {
      throw new PodflareError(
        "template_not_found",
        `template ${JSON.stringify(template)} does not exist on this host; build it with \`podflare template build ${template}\``,
      );
    }
    const { applied, clamped, warnings } = applyLimits(req, tierName, this.cfg);
    const network = networkOf(req, this.cfg.network !== null);
    const id = newSandboxId(this.cfg.regionTag);
    const now = this.clock.now();
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
      runtimeKey: id,
      familyId: null,
      familyPid: null,
      familyStartTime: null,
      outerFamily: null,
      network,
      createdAt: now,
      lastActiveAt: now,
    };
    // A pool hit keeps the pooled sandbox's id, which is also its hostname inside.
    const pooled = from.space ? null : (this.pool?.take(template, applied, record.env) ?? null);
    if (pooled) {
      record.id = record.runtimeKey = pooled.id;
      // Pooled sandboxes have egress with an open policy; anything else is set now.
      if (!applied.egress || network) {
        await this.runtime.setNetwork(pooled, this.live.specOf(record).network!).catch(async (err: unknown) => {
          await pooled.destroy().catch(() => undefined);
          throw err;
        });
      }
    }
    const rt = pooled ?? (await this.runtime.create({ ...this.live.specOf(record), fromSpace: from.space }));
    record.state = "ready";
    setHandle(record, rt);
    this.store.insert(record);
    this.live.track(record, rt);
    this.usage?.sandboxCreated(owner);
    return { id: record.id, state: "ready", template, applied, clamped, warnings };
  }

  info(owner: string, id: string): SandboxInfo {
    return this.live.describe(this.live.get(owner, id));
  }

  /** GET /v1/sandboxes/:id: info, after putting back network rules that drifted away. */
  async checkedInfo(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.live.get(owner, id);
    await this.runtime.checkNetwork?.(sb.rt).catch((e: Error) => this.log(`network check of ${id} failed: ${e.message}`));
    return this.live.describe(this.live.get(owner, id));
  }

  list(owner: string): SandboxInfo[] {
    return [...this.live.values()].filter((s) => s.record.owner === owner).map((s) => this.live.describe(s));
  }

  /** Every owner's live sandboxes, each with its owner: for an admin's view of the host. */
  listAll(): SandboxInfo[] {
    return [...this.live.values()].map((s) => ({ ...this.live.describe(s), owner: s.record.owner }));
  }

  /** PUT /v1/sandboxes/:id/network: a new egress policy (and egress on or off), for the next connection. */
  async setNetwork(owner: string, id: string, req: SetNetworkRequest): Promise<SandboxInfo> {
    const sb = this.live.get(owner, id);
    if (!this.cfg.network) {
      throw new PodflareError("unavailable", "networking is turned off on this host (PODFLARE_NETWORK=off); sandboxes have loopback only");
    }
    const { egress, ...policy } = req;
    const parsed = parsePolicy(policy);
    const wire = isOpen(parsed) ? null : policyToWire(parsed);
    const applied = { ...sb.record.applied, egress: egress ?? sb.record.applied.egress };
    if (!applied.egress && wire) throw new PodflareError("bad_request", "a network policy needs egress; send egress: true with it, or no allow_out/deny_out");
    this.live.touch(sb);
    await this.runtime.setNetwork(sb.rt, { egress: applied.egress, policy: parsed });
    sb.record.applied = applied;
    sb.record.network = wire;
    this.store.setNetwork(sb.record.id, applied, wire);
    return this.live.describe(sb);
  }

  async delete(owner: string, id: string): Promise<void> {
    const sb = this.live.get(owner, id);
    this.live.remove(id);
    this.store.delete(id);
    this.usage?.sandboxClosed(owner, { createdAt: sb.record.createdAt, memoryMb: sb.record.applied.memory_mb });
    await sb.rt.destroy();
  }

  /** Runs one exec after those already queued on the sandbox; resolves with the exit code. */
  exec(owner: string, id: string, req: Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest,
       output: ExecOutput, signal?: AbortSignal, flow?: ExecFlow, rich?: ExecRichOutput): Promise<number> {
    const sb = this.live.get(owner, id);
    return this.live.enqueue(sb, async () => {
      if (signal?.aborted) return -1;
      if (sb.expiry.signal.aborted) throw expiredError(sb.record);
      if (req.context_id !== undefined) await requireContext(sb.rt, id, req.context_id, this.cfg.guestReplyTimeoutMs);
      this.usage?.exec(owner);
      const opts = {
        code: req.code,
        language: req.language,
        timeoutMs: req.timeout_ms,
        killGraceMs: this.cfg.exec.killGraceMs,
        env: req.env,
        cwd: req.cwd,
        context: req.context_id,
        signal,
        memoryMb: sb.record.applied.memory_mb,
        flow,
        expiry: sb.expiry.signal,
      };
      return runExec(sb.rt, opts, output, rich);
    });
  }

  async upload(owner: string, id: string, path: string, body: Readable, maxBytes: number): Promise<void> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    try {
      await uploadFile(sb.rt, path, body, maxBytes, this.cfg.guestReplyTimeoutMs);
    } catch (err) {
      this.live.get(owner, id); // deleted during the upload: say so (sandbox_not_found)
      throw err;
    }
  }

  async read(owner: string, id: string, path: string): Promise<ReadResult> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    return readPath(sb.rt, path, this.cfg.guestReplyTimeoutMs);
  }

  async remove(owner: string, id: string, path: string): Promise<void> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    await removePath(sb.rt, path, this.cfg.guestReplyTimeoutMs);
  }

  /**
   * Kills every user process of the sandbox, the REPL's kernel excepted (a fork bomb, a
   * runaway server). Not queued behind the execs: it is how a wedged sandbox is recovered.
   */
  async killProcesses(owner: string, id: string): Promise<{ killed: number }> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    return { killed: await sb.rt.killProcesses() };
  }

  /**
   * Runs a REPL-context operation (runtime/contexts.ts) with the guest's reply timeout; one
   * that changes a context waits behind the sandbox's queued execs, as they would see it.
   */
  async withContexts<T>(owner: string, id: string, changes: boolean, op: (rt: RuntimeSandbox, timeoutMs: number) => Promise<T>): Promise<T> {
    const sb = this.live.get(owner, id);
    if (!changes) {
      await this.live.wake(sb);
      return op(sb.rt, this.cfg.guestReplyTimeoutMs);
    }
    return this.live.enqueue(sb, () => op(sb.rt, this.cfg.guestReplyTimeoutMs));
  }

  /** A fresh REPL (empty __main__) in the same sandbox; files and other processes stay. */
  async restartRepl(owner: string, id: string): Promise<void> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    await sb.rt.restartRepl();
  }

  /**
   * A byte stream to `port` inside the sandbox (the port proxy). Wakes a paused sandbox and
   * counts as activity; while the stream is open the sandbox is never idle.
   */
  async openPort(owner: string, id: string, port: number, timeoutMs: number): Promise<Socket> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    const socket = await openPortStream(sb.rt, port, timeoutMs);
    sb.proxied = (sb.proxied ?? 0) + 1;
    socket.once("close", () => {
      sb.proxied!--;
      this.live.touch(sb);
    });
    return socket;
  }

  /**
   * fork(n): queued behind the sandbox's running and waiting execs; every child is ready
   * when this resolves.
   */
  async fork(owner: string, id: string, n: number, tierName: TierName = "enterprise"): Promise<ForkResponse> {
    const sb = this.live.get(owner, id);
    // All n children's slots at once, held while the fork waits its turn: all or nothing.
    const slot = this.slots.reserve(owner, n, {
      owner: {
        max: tiers[tierName].concurrentSandboxes,
        refuse: (running) => `fork of ${n} would exceed the ${tierName} tier's ${tiers[tierName].concurrentSandboxes} sandboxes at once (you run ${running}); close some or fork fewer`,
      },
      host: { max: this.cfg.maxSandboxes, refuse: () => `fork of ${n} would exceed this host's ${this.cfg.maxSandboxes} sandboxes; close some and retry` },
    });
    try {
      return await forkQueued(this.forks, owner, sb, id, n);
    } finally {
      slot.release();
    }
  }

  /**
   * merge_into: `parentId` takes over the runtime (REPL and root) of `winnerId`, a descendant;
   * the parent's old runtime is destroyed and the winner id retired. Siblings keep running.
   */
  async mergeInto(owner: string, parentId: string, winnerId: string): Promise<void> {
    return mergeQueued(this.forks, owner, parentId, winnerId);
  }

  // -- lifecycle: pause/resume, idle timeout, the reaper's view, Spaces ---------------------

  async pause(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.live.get(owner, id);
    if (sb.record.state !== "paused") {
      await sb.rt.pause();
      this.live.setState(sb, "paused");
    }
    return this.live.describe(sb);
  }

  async resume(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.live.get(owner, id);
    await this.live.wake(sb);
    return this.live.describe(sb);
  }

  /** Sets a new idle timeout (clamped to the tier) and restarts the idle clock. */
  setIdleTimeout(owner: string, id: string, idleTimeoutS: number, tierName: TierName): { idle_timeout_s: number; clamped: string[] } {
    const sb = this.live.get(owner, id);
    const cap = tiers[tierName].idleTimeoutS;
    const applied = Math.min(idleTimeoutS, cap);
    sb.record.applied = { ...sb.record.applied, idle_timeout_s: applied };
    this.store.setApplied(sb.record.id, sb.record.applied);
    this.live.touch(sb);
    return { idle_timeout_s: applied, clamped: applied < idleTimeoutS ? ["idle_timeout_s"] : [] };
  }

  /**
   * Past max_lifetime_s (the reaper): the running exec is interrupted and ends with
   * ExitCode.Expired, queued execs and forks are refused; closing or freezing is the caller's.
   */
  expire(owner: string, id: string, frozen: boolean): void {
    const sb = this.live.get(owner, id);
    const s = sb.record.applied.max_lifetime_s;
    sb.expiry.abort(
      frozen
        ? `the sandbox reached max_lifetime_s=${s} and was interrupted and frozen to a Space; GET /v1/spaces lists it, POST /v1/spaces/<space_id>/resume brings it back`
        : `the sandbox reached max_lifetime_s=${s} and was interrupted and closed; create a new sandbox (max_lifetime_s is capped by your tier)`,
    );
  }

  /** What the reaper looks at: every live sandbox with its clocks at `now`. */
  lifecycleView(now: number): LifecycleView[] {
    return [...this.live.values()].map((sb) => ({
      id: sb.record.id,
      owner: sb.record.owner,
      state: sb.record.state,
      persistent: sb.record.applied.persistent,
      busy: sb.busy > 0,
      idleMs: sb.proxied ? 0 : now - sb.record.lastActiveAt,
      ageMs: now - sb.record.createdAt,
      idleTimeoutS: sb.record.applied.idle_timeout_s,
      maxLifetimeS: sb.record.applied.max_lifetime_s,
    }));
  }

  /** Runs `fn` in the sandbox's exec queue (after the execs already waiting), awake. */
  runQueued<T>(owner: string, id: string, fn: (rt: RuntimeSandbox, record: SandboxRecord) => Promise<T>): Promise<T> {
    const sb = this.live.get(owner, id);
    return this.live.enqueue(sb, async () => {
      if (this.live.find(id) !== sb) throw notFound(id);
      return fn(sb.rt, sb.record);
    });
  }

  /** The runtime of a live sandbox (Spaces load state into a new one). */
  runtimeOf(owner: string, id: string): RuntimeSandbox {
    return this.live.get(owner, id).rt;
  }

  /** The owner's usage, running sandboxes included. */
  usageOf(owner: string): UsageReport {
    const running = [...this.live.values()]
      .filter((s) => s.record.owner === owner)
      .map((s) => ({ createdAt: s.record.createdAt, memoryMb: s.record.applied.memory_mb }));
    if (!this.usage) throw new PodflareError("unavailable", "usage is not recorded on this host");
    return this.usage.report(owner, running);
  }

  /** Closes the guest connections without touching the sandboxes (hostd shutdown). */
  detachAll(): void {
    for (const sb of this.live.values()) sb.rt.detach();
    this.live.clear();
  }

  private createCaps(tierName: TierName): Caps {
    const max = tiers[tierName].concurrentSandboxes;
    return {
      owner: { max, refuse: () => `the ${tierName} tier runs at most ${max} sandboxes at once; close one and retry` },
      host: { max: this.cfg.maxSandboxes, refuse: () => `this host runs at most ${this.cfg.maxSandboxes} sandboxes at once; close one and retry` },
    };
  }
}
