// Live sandboxes: create, look up (owner-scoped), exec one at a time, files, delete, and
// re-adoption of the sandboxes that kept running while hostd was down. SandboxManager is what
// the API calls; each public method looks the sandbox up and delegates to the module that does
// the job: create-sandbox.ts (a create once its slot is held; the caps: sandbox-caps.ts),
// readopt.ts (start), sandbox-network.ts, sandbox-exec.ts (exec, contexts, queued jobs),
// sandbox-files-ports.ts, sandbox-clocks.ts (pause/resume, idle timeout, expiry, the reaper's
// view), fork-merge.ts. The table of live sandboxes and their queues: live-sandboxes.ts.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import {
  PodflareError,
  type CreateSandboxRequest,
  type CreateSandboxResponse,
  type SandboxInfo,
  type SetNetworkRequest,
} from "@podflare/protocol";
import type { ForkResponse } from "./fork-child.js";
import type { HostdConfig } from "../config.js";
import { tiers, type TierName } from "../auth/tiers.js";
import type { UsageReport, UsageStore } from "./usage.js";
import type { WarmPool } from "./warm-pool.js";
import { Reservations, type Reservation } from "./reservations.js";
import { CreateRate } from "./create-rate.js";
import type { LifecycleView } from "./lifecycle-view.js";
import { systemClock, type Clock } from "./clock.js";
import { forkQueued, mergeQueued, type ForkMergeDeps } from "./fork-merge.js";
import { LiveSandboxes, newSandboxId, tenantOf } from "./live-sandboxes.js";
import type { ExecFlow, ExecOutput, ExecRichOutput } from "../runtime/exec.js";
import type { ReadResult } from "../runtime/files.js";
import type { GuestConnection } from "../runtime/guest-connection.js";
import type { Runtime, RuntimeSandbox } from "../runtime/types.js";
import type { SandboxRecord, SandboxTable } from "../store/store.js";
import type { ManagerParts } from "./manager-parts.js";
import { createSandbox, type TemplateCatalog } from "./create-sandbox.js";
import { createCaps, forkCaps } from "./sandbox-caps.js";
import { readoptSandboxes } from "./readopt.js";
import { setSandboxNetwork } from "./sandbox-network.js";
import { execQueued, runQueued, withContexts, type QueuedExecRequest } from "./sandbox-exec.js";
import * as files from "./sandbox-files-ports.js";
import * as clocks from "./sandbox-clocks.js";
import { NetworkChecks } from "./network-checks.js";

export type { ForkResponse, TemplateCatalog };
export { newSandboxId };

export class SandboxManager {
  private stopping = false;
  private readonly live: LiveSandboxes;
  /** Sandboxes being made, so racing creates and forks cannot pass a concurrency cap. */
  private readonly slots = new Reservations((owner) => (owner === undefined ? this.live.size : this.live.countOf(owner)));
  /** How fast each owner starts sandboxes, by its tier: checked after its cap, which costs nothing. */
  private readonly starts = new CreateRate();
  private making = 0;
  private readonly forks: ForkMergeDeps;
  /** What the helper modules the public methods delegate to share. */
  private readonly parts: ManagerParts;
  private readonly networkChecks: NetworkChecks;
  /**
   * Whether an owner's key has been revoked (hostd.ts: Revocations). A revocation closes the
   * sandboxes it finds; a create or fork still under way then closes what it makes once it is
   * made (they were left running, out of anyone's reach; outside tester tm).
   */
  ownerRevoked: (owner: string) => boolean = () => false;

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
    this.parts = { cfg, store, runtime, live: this.live, clock, log, usage };
    this.networkChecks = new NetworkChecks(runtime.checkNetwork?.bind(runtime), () => clock.now(), log);
  }

  /** Re-adopts sandboxes that survived a restart and removes what a crash left behind. */
  async start(): Promise<{ adopted: string[]; removed: string[] }> {
    return readoptSandboxes(this.parts);
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

  /** Paces each owner's program output (hostd.ts: PODFLARE_OUTPUT_MB_PER_S_PER_KEY); set before sandboxes are tracked. */
  set outputMeterFor(fn: (owner: string) => ((bytes: number) => number) | undefined) {
    this.live.outputMeterFor = fn;
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
    const full = this.runtime.refuseNew?.(from.space ? "resume" : "create", tenantOf(owner));
    if (full) throw full;
    // Checked and reserved in one step, before any await: racing creates see each other's slots.
    const slot = this.slots.reserve(owner, 1, createCaps(tierName, this.cfg.maxSandboxes));
    this.takeStarts(slot, owner, 1, tierName, from.space ? "this resume" : "this create");
    this.making++;
    let made: CreateSandboxResponse;
    try {
      made = await createSandbox(this.parts, this.templates, this.pool, owner, req, tierName, from);
    } finally {
      this.making--;
      slot.release();
    }
    await this.closeIfRevoked(owner, [made.id]);
    return made;
  }

  /** The owner's starts for n sandboxes, or the slots given back and 429 rate_limited. */
  private takeStarts(slot: Reservation, owner: string, n: number, tierName: TierName, what: string): void {
    try {
      this.starts.take(owner, n, tierName, what);
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  /** What a revoked key's create or fork made meanwhile is closed, and the call refused. */
  private async closeIfRevoked(owner: string, ids: string[]): Promise<void> {
    if (!this.ownerRevoked(owner)) return;
    for (const id of ids) {
      await this.delete(owner, id).catch((err: unknown) => {
        if (!(err instanceof PodflareError && err.code === "sandbox_not_found")) this.log(`closing sandbox ${id} of revoked key ${owner} failed: ${(err as Error).message}`);
      });
    }
    throw new PodflareError("unauthorized", "this API key was revoked while the call was under way; what it made was closed");
  }

  info(owner: string, id: string): SandboxInfo {
    return this.live.describe(this.live.get(owner, id));
  }

  /** GET /v1/sandboxes/:id: info, and a check that puts back network rules that drifted away
   * (network-checks.ts: started, not waited for). */
  checkedInfo(owner: string, id: string): SandboxInfo {
    const sb = this.live.get(owner, id);
    this.networkChecks.start(sb, id, sb.rt);
    return this.live.describe(sb);
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
    return setSandboxNetwork(this.parts, this.live.get(owner, id), req);
  }

  async delete(owner: string, id: string): Promise<void> {
    const sb = this.live.get(owner, id);
    this.live.remove(id);
    this.store.delete(id);
    // A freeze stuck in the tenant's own pickling code (`__reduce__` that never returns) held
    // the close for its whole 300 s, the sandbox running on uncounted (outside tester tk).
    sb.closing.abort();
    // Its fork children descend from its parent now, from where it was forked (as in the store).
    for (const other of this.live.values()) {
      if (other.record.parentId !== id) continue;
      other.record.parentId = sb.record.parentId;
      other.record.forkedFrom = sb.record.forkedFrom;
    }
    this.usage?.sandboxClosed(owner, { createdAt: sb.record.createdAt, memoryMb: sb.record.applied.memory_mb });
    // Gone for every later call at once; the close itself waits for the state change under
    // way (a fork's copy, a restart, a merge), and `sb.rt` is read then (a merge swaps it).
    try {
      await sb.changes.run(() => sb.rt.destroy());
    } catch (err) {
      throw new PodflareError("internal", `sandbox ${id} is closed and answers no more calls, but stopping it failed: ${(err as Error).message}; hostd removes what is left of it at its next start`);
    }
  }

  /** Runs one exec after those already queued on the sandbox; resolves with the exit code. */
  exec(owner: string, id: string, req: QueuedExecRequest, output: ExecOutput, signal?: AbortSignal, flow?: ExecFlow, rich?: ExecRichOutput): Promise<number> {
    return execQueued(this.parts, owner, id, this.live.get(owner, id), req, output, this.unlessStopping(signal), flow, rich);
  }

  /**
   * hostd is stopping: from now on a caller's connection closing does not interrupt its exec
   * (hostd closes them all; the code runs on, as after a crash, docs/api.md).
   */
  beginStop(): void {
    this.stopping = true;
  }

  /** The caller's abort, unless it comes from hostd's own stop. */
  private unlessStopping(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (!signal) return undefined;
    const own = new AbortController();
    const pass = () => {
      if (!this.stopping) own.abort(signal.reason);
    };
    if (signal.aborted) pass();
    else signal.addEventListener("abort", pass, { once: true });
    return own.signal;
  }

  async upload(owner: string, id: string, path: string, body: Readable, maxBytes: number): Promise<void> {
    return files.upload(this.parts, owner, id, this.live.get(owner, id), path, body, maxBytes);
  }

  async read(owner: string, id: string, path: string): Promise<ReadResult> {
    const sb = this.live.get(owner, id);
    return this.live.guard(sb, () => files.read(this.parts, sb, path));
  }

  async remove(owner: string, id: string, path: string): Promise<void> {
    const sb = this.live.get(owner, id);
    return this.live.guard(sb, () => files.remove(this.parts, sb, path));
  }

  /**
   * Kills every user process of the sandbox, the REPL's kernel excepted (a fork bomb, a
   * runaway server). Not queued behind the execs: it is how a wedged sandbox is recovered.
   */
  async killProcesses(owner: string, id: string): Promise<{ killed: number }> {
    const sb = this.live.get(owner, id);
    this.live.touch(sb);
    // A state change: its freeze-kill-thaw must not undo a pause or kill a kernel being started.
    return { killed: await this.live.exclusive(sb, () => sb.rt.killProcesses()) };
  }

  /** A REPL-context operation (runtime/contexts.ts); one that changes a context waits behind the execs. */
  async withContexts<T>(owner: string, id: string, changes: boolean, op: (rt: RuntimeSandbox, timeoutMs: number) => Promise<T>): Promise<T> {
    const sb = this.live.get(owner, id);
    return this.live.guard(sb, () => withContexts(this.parts, sb, changes, op));
  }

  /** A fresh REPL (empty __main__) in the same sandbox; files and other processes stay. */
  async restartRepl(owner: string, id: string): Promise<void> {
    const sb = this.live.get(owner, id);
    this.live.touch(sb);
    await this.live.exclusive(sb, () => {
      sb.restarts++; // when the old kernel goes, not when the call arrives
      return sb.rt.restartRepl();
    });
  }

  /** A byte stream to `port` inside the sandbox (the port proxy); the sandbox is never idle meanwhile. */
  async openPort(owner: string, id: string, port: number, timeoutMs: number): Promise<Socket> {
    const sb = this.live.get(owner, id);
    return this.live.guard(sb, () => files.openPort(this.parts, sb, port, timeoutMs));
  }

  /**
   * A fresh connection to the sandbox's guest kernel for one process or filesystem request
   * (api/process-routes.ts, fs-routes.ts). Wakes a paused sandbox and counts as activity;
   * with `hold`, the sandbox is never idle while the connection is open (streams).
   */
  async openGuest(owner: string, id: string, hold = false): Promise<GuestConnection> {
    const sb = this.live.get(owner, id);
    const conn = await this.live.guard(sb, async () => {
      await this.live.wake(sb);
      return sb.rt.openConnection();
    });
    this.live.touch(sb);
    if (hold) {
      sb.proxied = (sb.proxied ?? 0) + 1;
      conn.onClose(() => {
        sb.proxied!--;
        this.live.touch(sb);
      });
    }
    return conn;
  }

  /**
   * fork(n): queued behind the sandbox's running and waiting execs; every child is ready
   * when this resolves.
   */
  async fork(owner: string, id: string, n: number, tierName: TierName = "enterprise"): Promise<ForkResponse> {
    const sb = this.live.get(owner, id);
    const full = this.runtime.refuseNew?.("fork", tenantOf(owner));
    if (full) throw full;
    // All n children's slots at once, held while the fork waits its turn: all or nothing.
    const slot = this.slots.reserve(owner, n, forkCaps(tierName, n, this.cfg.maxSandboxes));
    this.takeStarts(slot, owner, n, tierName, `fork of ${n}`);
    let forked: ForkResponse;
    try {
      forked = await forkQueued(this.forks, owner, sb, id, n);
    } finally {
      slot.release();
    }
    await this.closeIfRevoked(owner, forked.children);
    return forked;
  }

  /**
   * merge_into: `parentId` takes over the runtime (REPL and root) of `winnerId`, a descendant;
   * the parent's old runtime is destroyed and the winner id retired. Siblings keep running.
   */
  async mergeInto(owner: string, parentId: string, winnerId: string): Promise<void> {
    return mergeQueued(this.forks, owner, parentId, winnerId);
  }

  // -- lifecycle: pause/resume, idle timeout, the reaper's view, Spaces ---------------------

  /** `byCall`: POST …/pause (kept paused), not the reaper's idle pause (closed after as long again). */
  async pause(owner: string, id: string, byCall = false): Promise<SandboxInfo> {
    return clocks.pause(this.parts, this.live.get(owner, id), byCall);
  }

  async resume(owner: string, id: string): Promise<SandboxInfo> {
    return clocks.resume(this.parts, this.live.get(owner, id));
  }

  /** Sets a new idle timeout (clamped to the tier) and restarts the idle clock. */
  setTimeouts(owner: string, id: string, change: clocks.TimeoutChange, tierName: TierName): ReturnType<typeof clocks.setTimeouts> {
    return clocks.setTimeouts(this.parts, this.live.get(owner, id), change, tierName);
  }

  /** Past max_lifetime_s (the reaper): interrupts the running exec, refuses queued ones (sandbox-clocks.ts). */
  expire(owner: string, id: string, frozen: boolean): void {
    clocks.expire(this.live.get(owner, id), frozen);
  }

  /** What the reaper looks at: every live sandbox with its clocks at `now`. */
  lifecycleView(now: number): LifecycleView[] {
    return clocks.lifecycleView(this.parts, now);
  }

  /** Runs `fn` in the sandbox's exec queue (after the execs already waiting), awake, as a state change. */
  runQueued<T>(owner: string, id: string, fn: (rt: RuntimeSandbox, record: SandboxRecord, closing: AbortSignal) => Promise<T>): Promise<T> {
    return runQueued(this.parts, id, this.live.get(owner, id), fn);
  }

  /**
   * How many restart_repl calls the owner's live sandbox has had, or null when it has none
   * (deleted, another owner's): what api/routes.ts compares to name a call's failure.
   */
  /** The owner of a live sandbox (for an admin's call on any key's sandbox), or undefined. */
  ownerOf(id: string): string | undefined {
    return this.live.find(id)?.record.owner;
  }

  restartsOf(owner: string, id: string): number | null {
    const sb = this.live.find(id);
    return sb && sb.record.owner === owner ? sb.restarts : null;
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
}
