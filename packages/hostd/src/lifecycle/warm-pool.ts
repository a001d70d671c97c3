// The warm pool: booted, never-used default-size sandboxes, so a create takes one in a few
// milliseconds. Refill runs in the background, `refillParallel` sandboxes at a time, and waits
// while user creates are in flight so it never starves live work. Custom sizes and env boot cold.
import type { AppliedLimits } from "@podflare/protocol";
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
  log: (msg: string) => void;
}

export interface PoolStats {
  size: number;
  free: number;
  hits: number;
  misses: number;
  hit_rate: number;
}

export class WarmPool {
  private readonly free = new Map<string, RuntimeSandbox[]>();
  private hits = 0;
  private misses = 0;
  private running = false;
  /** Refill workers running now, and the boots they have in flight per template. */
  private readonly workers = new Set<Promise<void>>();
  private readonly booting = new Map<string, number>();

  constructor(
    private readonly runtime: Runtime,
    private readonly opts: WarmPoolOptions,
  ) {
    for (const t of opts.templates) this.free.set(t, []);
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
    };
  }

  /** Stops refilling and destroys the pooled sandboxes (no one owns them). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    const all = [...this.free.values()].flat();
    for (const list of this.free.values()) list.length = 0;
    await Promise.all(all.map((sb) => sb.destroy().catch(() => undefined)));
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
      if (this.opts.busy()) {
        await sleep(20);
        continue;
      }
      const spec: RuntimeSandboxSpec = { id: this.opts.newId(), template, env: {}, limits: this.opts.limits, network: this.opts.network, background: true };
      this.booting.set(template, (this.booting.get(template) ?? 0) + 1);
      try {
        const sb = await this.runtime.create(spec);
        if (this.running) this.free.get(template)!.push(sb);
        else await sb.destroy();
      } catch (err) {
        this.opts.log(`warm pool: could not boot a ${template} sandbox: ${(err as Error).message}`);
        await sleep(1000);
      } finally {
        this.booting.set(template, this.booting.get(template)! - 1);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
