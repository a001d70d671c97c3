// The warm pool: booted, never-used default-size sandboxes, so a create takes one in a few
// milliseconds. Refill runs in the background, `refillParallel` workers at a time, and waits
// while user creates are in flight so it never starves live work. Custom sizes and env boot cold.
//
// Where the runtime can, refill spawns: each template has a zygote, a pooled sandbox that is
// never handed out and never runs code, and a refill forks up to `spawnBatch` fresh sandboxes
// from it at once, each into a root and a family of its own (docs/security.md, "Warm pool spawn"). A spawn costs
// a tenth of a cold boot's CPU, so the pool keeps up with a burst of creates. A failed spawn
// replaces the zygote; after SPAWN_FAILURES_MAX failures in a row the pool boots cold.
import type { AppliedLimits, PoolStats } from "@podflare/protocol";
import type { Runtime, RuntimeSandbox, RuntimeSandboxSpec, SandboxNetwork } from "../runtime/types.js";

export interface WarmPoolOptions {
  /** Sandboxes kept ready per pooled template. */
  size: number;
  /** Sandboxes booted at once while refilling (default 1). */
  refillParallel?: number;
  templates: string[];
  limits: { memoryMb: number; vcpus: number; diskMb: number; pidsMax: number };
  newId: () => string;
  /** Pooled sandboxes get the default network (egress on, open policy); a create changes it. */
  network?: SandboxNetwork;
  /** True while user creates are in flight: refill waits. */
  busy: () => boolean;
  /** Sandboxes one spawn from the zygote makes at most (0: no zygote, every boot cold). Default 8. */
  spawnBatch?: number;
  log: (msg: string) => void;
}

export type { PoolStats };

const SPAWN_FAILURES_MAX = 3;
/**
 * Refill keeps out of a burst of creates while the pool holds more than half its size: it
 * starts once no sandbox was taken for QUIET_MS, or when the pool is half empty. Refill and a
 * burst compete for the same cores; this way the burst's first half runs alone.
 */
const QUIET_MS = 100;

export class WarmPool {
  private readonly free = new Map<string, RuntimeSandbox[]>();
  private hits = 0;
  private misses = 0;
  private running = false;
  /** Refill workers running now, and the boots they have in flight per template. */
  private readonly workers = new Set<Promise<void>>();
  private readonly booting = new Map<string, number>();
  /** Per template: its zygote (being booted, or ready). */
  private readonly zygotes = new Map<string, Promise<RuntimeSandbox>>();
  private spawnFailures = 0;
  private readonly spawnBatch: number;
  private lastTakeMs = 0;

  constructor(
    private readonly runtime: Runtime,
    private readonly opts: WarmPoolOptions,
  ) {
    for (const t of opts.templates) this.free.set(t, []);
    this.spawnBatch = opts.spawnBatch ?? 8;
  }

  start(): void {
    this.running = this.opts.size > 0;
    this.refill();
  }

  /** A ready sandbox for this create, or null (a miss: the caller boots one cold). */
  take(template: string, applied: AppliedLimits, env: Record<string, string>): RuntimeSandbox | null {
    const list = this.free.get(template);
    const { limits } = this.opts;
    const standard =
      applied.memory_mb === limits.memoryMb && applied.vcpus === limits.vcpus && applied.disk_mb === limits.diskMb && Object.keys(env).length === 0;
    const sb = list && standard ? list.shift() : undefined;
    if (!sb) {
      this.misses++;
      return null;
    }
    this.hits++;
    this.lastTakeMs = performance.now();
    sb.foreground();
    this.refill();
    return sb;
  }

  stats(): PoolStats {
    let free = 0;
    for (const list of this.free.values()) free += list.length;
    const total = this.hits + this.misses;
    return {
      size: this.opts.size * this.opts.templates.length,
      free,
      hits: this.hits,
      misses: this.misses,
      hit_rate: total ? Math.round((this.hits / total) * 1000) / 1000 : 0,
      refill: this.spawning() ? "spawn" : "boot",
    };
  }

  /** Stops refilling and destroys the pooled sandboxes (no one owns them). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    const all = [...this.free.values()].flat();
    for (const list of this.free.values()) list.length = 0;
    const zygotes = [...this.zygotes.values()];
    this.zygotes.clear();
    for (const z of zygotes) all.push(...(await z.then((sb) => [sb], () => [])));
    await Promise.all(all.map((sb) => sb.destroy().catch(() => undefined)));
  }

  private holdOff(template: string): boolean {
    return this.free.get(template)!.length * 2 >= this.opts.size && performance.now() - this.lastTakeMs < QUIET_MS;
  }

  private spawning(): boolean {
    return this.runtime.spawn !== undefined && this.spawnBatch > 0 && this.spawnFailures < SPAWN_FAILURES_MAX;
  }

  private spec(template: string): RuntimeSandboxSpec {
    return { id: this.opts.newId(), template, env: {}, limits: this.opts.limits, network: this.opts.network, background: true };
  }

  /** The template's zygote, booted on first use. It has no network: it never talks to anyone. */
  private zygote(template: string): Promise<RuntimeSandbox> {
    let z = this.zygotes.get(template);
    if (!z) {
      z = this.runtime.create({ ...this.spec(template), network: undefined, zygote: true });
      this.zygotes.set(template, z);
      z.catch(() => {
        if (this.zygotes.get(template) === z) this.zygotes.delete(template);
      });
    }
    return z;
  }

  /** After a failed spawn: the zygote goes (a new one is booted on the next refill). */
  private async dropZygote(template: string): Promise<void> {
    const z = this.zygotes.get(template);
    this.zygotes.delete(template);
    const sb = await z?.catch(() => null);
    await sb?.destroy().catch(() => undefined);
  }

  /** Spawns from the template's zygote; a failure replaces the zygote and counts toward booting cold. */
  private async spawnFrom(template: string, count: number): Promise<RuntimeSandbox[]> {
    try {
      const zygote = await this.zygote(template);
      const made = await this.runtime.spawn!(zygote, Array.from({ length: count }, () => this.spec(template)));
      this.spawnFailures = 0;
      return made;
    } catch (err) {
      if (++this.spawnFailures >= SPAWN_FAILURES_MAX) this.opts.log(`warm pool: spawning failed ${SPAWN_FAILURES_MAX} times in a row; booting every pooled sandbox cold from now on`);
      await this.dropZygote(template);
      throw err;
    }
  }

  private refill(): void {
    if (!this.running) return;
    const parallel = Math.max(1, this.opts.refillParallel ?? 1);
    while (this.workers.size < parallel && this.nextTemplate()) {
      const worker: Promise<void> = this.fillLoop().finally(() => {
        this.workers.delete(worker);
      });
      this.workers.add(worker);
    }
  }

  /** A template short of sandboxes, counting those being booted. */
  private nextTemplate(): string | undefined {
    return [...this.free.entries()].find(([t, list]) => list.length + (this.booting.get(t) ?? 0) < this.opts.size)?.[0];
  }

  private async fillLoop(): Promise<void> {
    for (;;) {
      if (!this.running) return;
      const template = this.nextTemplate();
      if (!template) return;
      if (this.opts.busy() || this.holdOff(template)) {
        await sleep(20);
        continue;
      }
      if (this.runtime.room?.full()) {
        await sleep(1000); // a full storage pool: a pooled sandbox could not write either
        continue;
      }
      const spawn = this.spawning();
      const lacking = this.opts.size - this.free.get(template)!.length - (this.booting.get(template) ?? 0);
      const count = spawn ? Math.max(1, Math.min(lacking, this.spawnBatch)) : 1;
      this.booting.set(template, (this.booting.get(template) ?? 0) + count);
      try {
        const made = spawn ? await this.spawnFrom(template, count) : [await this.runtime.create(this.spec(template))];
        if (this.running) this.free.get(template)!.push(...made);
        else await Promise.all(made.map((sb) => sb.destroy()));
      } catch (err) {
        this.opts.log(`warm pool: could not ${spawn ? "spawn" : "boot"} a ${template} sandbox: ${(err as Error).message}`);
        await sleep(spawn ? 100 : 1000);
      } finally {
        this.booting.set(template, this.booting.get(template)! - count);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
