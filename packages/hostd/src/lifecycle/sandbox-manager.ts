// Live sandboxes: create, look up (owner-scoped), exec one at a time, files, delete, and
// re-adoption of the sandboxes that kept running while hostd was down.
import crypto from "node:crypto";
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
import { applyLimits, handleOf, networkOf, notFound, NOT_CARRIED, remainingLifetimeS, setHandle, toInfo, type ForkResponse } from "./sandbox-records.js";

export type { ForkResponse };
import type { HostdConfig } from "../config.js";
import { tiers, type TierName } from "../auth/tiers.js";
import type { UsageReport, UsageStore } from "./usage.js";
import type { WarmPool } from "./warm-pool.js";
import { Reservations, type Caps } from "./reservations.js";
import type { LifecycleView } from "./reaper.js";
import { systemClock, type Clock } from "./clock.js";
import { runExec, type ExecFlow, type ExecOutput, type ExecRichOutput } from "../runtime/exec.js";
import { readPath, removePath, uploadFile, type ReadResult } from "../runtime/files.js";
import { openPortStream } from "../runtime/port-stream.js";
import { requireContext } from "../runtime/contexts.js";
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
  /** Execs running now: the reaper never pauses a busy sandbox. */
  busy: number;
  /** Port proxy connections open now: they hold the idle clock (not max_lifetime_s). */
  proxied?: number;
  /** Aborted at max_lifetime_s: interrupts the running exec and refuses queued ones. */
  expiry: AbortController;
}

function expiredError(r: SandboxRecord): PodflareError {
  return new PodflareError(
    "sandbox_expired",
    `sandbox ${r.id} reached its max_lifetime_s=${r.applied.max_lifetime_s} and is being ${r.applied.persistent ? "frozen to a Space (GET /v1/spaces)" : "closed"}; create a new sandbox`,
  );
}

export function newSandboxId(): string {
  return `sbx_${crypto.randomBytes(16).toString("hex")}`;
}

export class SandboxManager {
  private readonly live = new Map<string, LiveSandbox>();
  /** Sandboxes being made, so racing creates and forks cannot pass a concurrency cap. */
  private readonly slots = new Reservations((owner) => (owner === undefined ? this.live.size : this.liveOf(owner)));
  private making = 0;

  constructor(
    private readonly cfg: HostdConfig,
    private readonly store: SandboxStore,
    private readonly runtime: Runtime,
    private readonly templates: TemplateCatalog,
    private readonly log: (msg: string) => void,
    private readonly usage?: UsageStore,
    private readonly pool?: WarmPool,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Re-adopts sandboxes that survived a restart and removes what a crash left behind. */
  async start(): Promise<{ adopted: string[]; removed: string[] }> {
    const adopted: string[] = [];
    for (const record of this.store.list()) {
      let rt: RuntimeSandbox | null = null;
      if (record.initPid !== null && record.initStartTime !== null) {
        try {
          rt = await this.runtime.adopt(this.specOf(record), handleOf(record), { paused: record.state === "paused" });
        } catch (err) {
          this.log(`could not re-adopt ${record.id}: ${(err as Error).message}`);
        }
      }
      if (rt) {
        this.track(record, rt);
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
    return this.liveOf(owner);
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
    const id = newSandboxId();
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
        await this.runtime.setNetwork(pooled, this.specOf(record).network!).catch(async (err: unknown) => {
          await pooled.destroy().catch(() => undefined);
          throw err;
        });
      }
    }
    const rt = pooled ?? (await this.runtime.create({ ...this.specOf(record), fromSpace: from.space }));
    record.state = "ready";
    setHandle(record, rt);
    this.store.insert(record);
    this.track(record, rt);
    this.usage?.sandboxCreated(owner);
    return { id: record.id, state: "ready", template, applied, clamped, warnings };
  }

  info(owner: string, id: string): SandboxInfo {
    return this.describe(this.get(owner, id));
  }

  /** GET /v1/sandboxes/:id: info, after putting back network rules that drifted away. */
  async checkedInfo(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.get(owner, id);
    await this.runtime.checkNetwork?.(sb.rt).catch((e: Error) => this.log(`network check of ${id} failed: ${e.message}`));
    return this.describe(this.get(owner, id));
  }

  list(owner: string): SandboxInfo[] {
    return [...this.live.values()].filter((s) => s.record.owner === owner).map((s) => this.describe(s));
  }

  /** PUT /v1/sandboxes/:id/network: a new egress policy (and egress on or off), for the next connection. */
  async setNetwork(owner: string, id: string, req: SetNetworkRequest): Promise<SandboxInfo> {
    const sb = this.get(owner, id);
    if (!this.cfg.network) {
      throw new PodflareError("unavailable", "networking is turned off on this host (PODFLARE_NETWORK=off); sandboxes have loopback only");
    }
    const { egress, ...policy } = req;
    const parsed = parsePolicy(policy);
    const wire = isOpen(parsed) ? null : policyToWire(parsed);
    const applied = { ...sb.record.applied, egress: egress ?? sb.record.applied.egress };
    if (!applied.egress && wire) throw new PodflareError("bad_request", "a network policy needs egress; send egress: true with it, or no allow_out/deny_out");
    this.touch(sb);
    await this.runtime.setNetwork(sb.rt, { egress: applied.egress, policy: parsed });
    sb.record.applied = applied;
    sb.record.network = wire;
    this.store.setNetwork(sb.record.id, applied, wire);
    return this.describe(sb);
  }

  async delete(owner: string, id: string): Promise<void> {
    const sb = this.get(owner, id);
    this.live.delete(id);
    this.store.delete(id);
    this.usage?.sandboxClosed(owner, { createdAt: sb.record.createdAt, memoryMb: sb.record.applied.memory_mb });
    await sb.rt.destroy();
  }

  /** Runs one exec after those already queued on the sandbox; resolves with the exit code. */
  exec(owner: string, id: string, req: Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest,
       output: ExecOutput, signal?: AbortSignal, flow?: ExecFlow, rich?: ExecRichOutput): Promise<number> {
    const sb = this.get(owner, id);
    return this.enqueue(sb, async () => {
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
    const sb = this.get(owner, id);
    await this.wake(sb);
    try {
      await uploadFile(sb.rt, path, body, maxBytes, this.cfg.guestReplyTimeoutMs);
    } catch (err) {
      this.get(owner, id); // deleted during the upload: say so (sandbox_not_found)
      throw err;
    }
  }

  async read(owner: string, id: string, path: string): Promise<ReadResult> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    return readPath(sb.rt, path, this.cfg.guestReplyTimeoutMs);
  }

  async remove(owner: string, id: string, path: string): Promise<void> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    await removePath(sb.rt, path, this.cfg.guestReplyTimeoutMs);
  }

  /**
   * Kills every user process of the sandbox, the REPL's kernel excepted (a fork bomb, a
   * runaway server). Not queued behind the execs: it is how a wedged sandbox is recovered.
   */
  async killProcesses(owner: string, id: string): Promise<{ killed: number }> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    return { killed: await sb.rt.killProcesses() };
  }

  /**
   * Runs a REPL-context operation (runtime/contexts.ts) with the guest's reply timeout; one
   * that changes a context waits behind the sandbox's queued execs, as they would see it.
   */
  async withContexts<T>(owner: string, id: string, changes: boolean, op: (rt: RuntimeSandbox, timeoutMs: number) => Promise<T>): Promise<T> {
    const sb = this.get(owner, id);
    if (!changes) {
      await this.wake(sb);
      return op(sb.rt, this.cfg.guestReplyTimeoutMs);
    }
    return this.enqueue(sb, () => op(sb.rt, this.cfg.guestReplyTimeoutMs));
  }

  /** A fresh REPL (empty __main__) in the same sandbox; files and other processes stay. */
  async restartRepl(owner: string, id: string): Promise<void> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    await sb.rt.restartRepl();
  }

  /**
   * A byte stream to `port` inside the sandbox (the port proxy). Wakes a paused sandbox and
   * counts as activity; while the stream is open the sandbox is never idle.
   */
  async openPort(owner: string, id: string, port: number, timeoutMs: number): Promise<Socket> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    const socket = await openPortStream(sb.rt, port, timeoutMs);
    sb.proxied = (sb.proxied ?? 0) + 1;
    socket.once("close", () => {
      sb.proxied!--;
      this.touch(sb);
    });
    return socket;
  }

  /**
   * fork(n): queued behind the sandbox's running and waiting execs; every child is ready
   * when this resolves.
   */
  async fork(owner: string, id: string, n: number, tierName: TierName = "enterprise"): Promise<ForkResponse> {
    const sb = this.get(owner, id);
    // All n children's slots at once, held while the fork waits its turn: all or nothing.
    const slot = this.slots.reserve(owner, n, {
      owner: {
        max: tiers[tierName].concurrentSandboxes,
        refuse: (running) => `fork of ${n} would exceed the ${tierName} tier's ${tiers[tierName].concurrentSandboxes} sandboxes at once (you run ${running}); close some or fork fewer`,
      },
      host: { max: this.cfg.maxSandboxes, refuse: () => `fork of ${n} would exceed this host's ${this.cfg.maxSandboxes} sandboxes; close some and retry` },
    });
    try {
      return await this.forkReserved(owner, sb, id, n);
    } finally {
      slot.release();
    }
  }

  private forkReserved(owner: string, sb: LiveSandbox, id: string, n: number): Promise<ForkResponse> {
    return this.enqueue(sb, async (): Promise<ForkResponse> => {
      if (this.live.get(id) !== sb) throw notFound(id);
      if (sb.expiry.signal.aborted) throw expiredError(sb.record);
      this.usage?.forks(owner, n);
      const now = this.clock.now();
      const records: SandboxRecord[] = Array.from({ length: n }, () => {
        const childId = newSandboxId();
        return {
          ...sb.record,
          id: childId,
          runtimeKey: childId,
          state: "ready" as const,
          parentId: id,
          // A child lives no longer than its parent would: forking never extends max_lifetime_s.
          applied: { ...sb.record.applied, max_lifetime_s: remainingLifetimeS(sb.record, now) },
          metadata: { ...sb.record.metadata },
          env: { ...sb.record.env },
          createdAt: now,
          lastActiveAt: now,
        };
      });
      this.making += n;
      let result;
      try {
        result = await this.runtime.fork(sb.rt, records.map((r) => this.specOf(r)));
      } finally {
        this.making -= n;
      }
      for (const [i, record] of records.entries()) {
        const rt = result.children[i]!;
        setHandle(record, rt);
        this.store.insert(record);
        this.track(record, rt);
      }
      const warnings: string[] = [];
      if (!result.landlock) {
        warnings.push("landlock: this host's kernel cannot scope signals (Landlock ABI < 6): the parent and its children can signal each other's processes; see docs/security.md");
      }
      return { children: records.map((r) => r.id), not_carried: [...NOT_CARRIED], warnings };
    });
  }

  /**
   * merge_into: `parentId` takes over the runtime (REPL and root) of `winnerId`, a descendant;
   * the parent's old runtime is destroyed and the winner id retired. Siblings keep running.
   */
  async mergeInto(owner: string, parentId: string, winnerId: string): Promise<void> {
    const parent = this.get(owner, parentId);
    if (parentId === winnerId) {
      throw new PodflareError("bad_request", `cannot merge sandbox ${parentId} into itself; pass one of its fork children`);
    }
    const winner = this.get(owner, winnerId);
    if (!this.isDescendant(winnerId, parentId)) {
      throw new PodflareError("bad_request", `sandbox ${winnerId} is not a fork descendant of ${parentId}; merge_into takes a child (or grandchild) of the sandbox`);
    }
    const run = async () => {
      if (this.live.get(parentId) !== parent || this.live.get(winnerId) !== winner) throw notFound(winnerId);
      const old = parent.rt;
      this.store.merge(parentId, winner.record);
      const record: SandboxRecord = {
        ...parent.record,
        runtimeKey: winner.record.runtimeKey,
        initPid: winner.record.initPid,
        initStartTime: winner.record.initStartTime,
        familyId: winner.record.familyId,
        familyPid: winner.record.familyPid,
        familyStartTime: winner.record.familyStartTime,
        outerFamily: winner.record.outerFamily,
        template: winner.record.template,
        applied: winner.record.applied,
        env: winner.record.env,
        network: winner.record.network,
        lastActiveAt: this.clock.now(),
      };
      this.live.delete(winnerId);
      this.track(record, winner.rt);
      for (const other of this.live.values()) {
        if (other.record.parentId === winnerId) other.record.parentId = parentId;
      }
      await old.destroy();
    };
    // Behind both sandboxes' queued work.
    const both = Promise.all([parent.execTail, winner.execTail]);
    const result = both.then(run, run);
    parent.execTail = result.catch(() => undefined);
    winner.execTail = parent.execTail;
    return result;
  }

  private isDescendant(id: string, ancestor: string): boolean {
    let cur = this.live.get(id)?.record.parentId ?? null;
    const seen = new Set<string>();
    while (cur !== null && !seen.has(cur)) {
      if (cur === ancestor) return true;
      seen.add(cur);
      cur = this.live.get(cur)?.record.parentId ?? this.store.get(cur)?.parentId ?? null;
    }
    return false;
  }

  // -- lifecycle: pause/resume, idle timeout, the reaper's view, Spaces ---------------------

  async pause(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.get(owner, id);
    if (sb.record.state !== "paused") {
      await sb.rt.pause();
      this.setState(sb, "paused");
    }
    return this.describe(sb);
  }

  async resume(owner: string, id: string): Promise<SandboxInfo> {
    const sb = this.get(owner, id);
    await this.wake(sb);
    return this.describe(sb);
  }

  /** Sets a new idle timeout (clamped to the tier) and restarts the idle clock. */
  setIdleTimeout(owner: string, id: string, idleTimeoutS: number, tierName: TierName): { idle_timeout_s: number; clamped: string[] } {
    const sb = this.get(owner, id);
    const cap = tiers[tierName].idleTimeoutS;
    const applied = Math.min(idleTimeoutS, cap);
    sb.record.applied = { ...sb.record.applied, idle_timeout_s: applied };
    this.store.setApplied(sb.record.id, sb.record.applied);
    this.touch(sb);
    return { idle_timeout_s: applied, clamped: applied < idleTimeoutS ? ["idle_timeout_s"] : [] };
  }

  /**
   * Past max_lifetime_s (the reaper): the running exec is interrupted and ends with
   * ExitCode.Expired, queued execs and forks are refused; closing or freezing is the caller's.
   */
  expire(owner: string, id: string, frozen: boolean): void {
    const sb = this.get(owner, id);
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
    const sb = this.get(owner, id);
    return this.enqueue(sb, async () => {
      if (this.live.get(id) !== sb) throw notFound(id);
      return fn(sb.rt, sb.record);
    });
  }

  /** The runtime of a live sandbox (Spaces load state into a new one). */
  runtimeOf(owner: string, id: string): RuntimeSandbox {
    return this.get(owner, id).rt;
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

  private track(record: SandboxRecord, rt: RuntimeSandbox): void {
    this.live.set(record.id, { record, rt, execTail: Promise.resolve(), busy: 0, expiry: new AbortController() });
  }

  /** The owner's live sandboxes (reservations for those being made are counted apart). */
  private liveOf(owner: string): number {
    let n = 0;
    for (const s of this.live.values()) if (s.record.owner === owner) n++;
    return n;
  }

  private createCaps(tierName: TierName): Caps {
    const max = tiers[tierName].concurrentSandboxes;
    return {
      owner: { max, refuse: () => `the ${tierName} tier runs at most ${max} sandboxes at once; close one and retry` },
      host: { max: this.cfg.maxSandboxes, refuse: () => `this host runs at most ${this.cfg.maxSandboxes} sandboxes at once; close one and retry` },
    };
  }

  private get(owner: string, id: string): LiveSandbox {
    const sb = this.live.get(id);
    // Another owner's sandbox answers exactly like a missing one.
    if (!sb || sb.record.owner !== owner) throw notFound(id);
    return sb;
  }

  /**
   * Runs `fn` after the work already queued on the sandbox (execs, forks, freezes: one at a
   * time, in order), with the sandbox awake and marked busy so the reaper leaves it alone.
   */
  private enqueue<T>(sb: LiveSandbox, fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      await this.wake(sb);
      sb.busy++;
      try {
        return await fn();
      } finally {
        sb.busy--;
        this.touch(sb);
      }
    };
    const result = sb.execTail.then(run, run);
    sb.execTail = result.catch(() => undefined);
    return result;
  }

  /** Marks activity and resumes a paused sandbox: any call on it wakes it transparently. */
  private async wake(sb: LiveSandbox): Promise<void> {
    this.touch(sb);
    if (sb.record.state === "paused") {
      await sb.rt.resume();
      this.setState(sb, "ready");
    }
  }

  private setState(sb: LiveSandbox, state: SandboxRecord["state"]): void {
    sb.record.state = state;
    this.store.setState(sb.record.id, state);
  }

  private touch(sb: LiveSandbox): void {
    sb.record.lastActiveAt = this.clock.now();
    this.store.touch(sb.record.id, sb.record.lastActiveAt);
  }

  private describe(sb: LiveSandbox): SandboxInfo {
    return toInfo(sb.record, this.runtime.addressOf(sb.rt));
  }

  private specOf(record: SandboxRecord): RuntimeSandboxSpec {
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
    };
  }

}
