// The metrics hostd exports at /metrics (names and meanings: docs/operations.md, "Metrics").
// Requests and operations are counted as they happen; the rest is read at each scrape.
import { Registry } from "./registry.js";
import { CachedReading } from "./cached.js";
import { readHostStats } from "./host-stats.js";
import type { PoolStats } from "../lifecycle/warm-pool.js";
import type { UsageReport } from "../lifecycle/usage.js";

export type OpName = "create" | "exec" | "fork" | "freeze" | "resume";

/** What the scrape reads; each part is optional so a unit test can give only what it checks. */
export interface MetricSources {
  /** State of every live sandbox. */
  states?: () => string[];
  maxSandboxes?: number;
  pool?: () => PoolStats;
  /** Usage of every owner that has any (key ids, never keys). */
  usage?: () => UsageReport[];
  /** The storage pool's mount point, for host and disk figures. */
  poolRoot?: string;
  /** Deleted btrfs subvolumes the cleaner has not removed yet (a process start: cached). */
  cleanerBacklog?: () => Promise<number>;
  /** Rules in the router's nftables table (a process start: cached). */
  networkRules?: () => Promise<number>;
  /** MCP calls waiting for one of their key's slots. */
  mcpCallsWaiting?: () => number;
}

const STATES = ["creating", "ready", "paused", "frozen", "closed"];
/** How stale the tool-read figures may be (Prometheus scrapes every 15 s by default). */
const TOOL_READING_MAX_AGE_MS = 10_000;

export class HostdMetrics {
  readonly registry = new Registry();
  private readonly requests = this.registry.counter("podflare_http_requests_total", "API requests answered, by method, route pattern and status.", ["method", "route", "status"]);
  private readonly requestSeconds = this.registry.histogram("podflare_http_request_duration_seconds", "Time from request to the end of the answer (streams included), by method and route pattern.", ["method", "route"]);
  private readonly opSeconds = this.registry.histogram("podflare_operation_duration_seconds", "Duration of sandbox operations (create, exec, fork, freeze, resume), by outcome.", ["op", "outcome"]);

  constructor(sources: MetricSources = {}) {
    const r = this.registry;
    if (sources.states) {
      const g = r.gauge("podflare_sandboxes", "Live sandboxes by state.", ["state"]);
      const states = sources.states;
      r.onCollect(() => {
        const counts = new Map(STATES.map((s) => [s, 0]));
        for (const s of states()) counts.set(s, (counts.get(s) ?? 0) + 1);
        for (const [state, n] of counts) g.set({ state }, n);
      });
    }
    if (sources.maxSandboxes !== undefined) {
      const max = sources.maxSandboxes;
      const g = r.gauge("podflare_sandboxes_max", "Sandboxes this host runs at most at once (PODFLARE_MAX_SANDBOXES).");
      r.onCollect(() => g.set({}, max));
    }
    if (sources.mcpCallsWaiting) {
      const waiting = sources.mcpCallsWaiting;
      const g = r.gauge("podflare_mcp_calls_waiting", "MCP calls over HTTP waiting for one of their key's slots (4 at once per key).");
      r.onCollect(() => g.set({}, waiting()));
    }
    if (sources.pool) {
      const pool = sources.pool;
      const size = r.gauge("podflare_pool_size", "Ready sandboxes the warm pool aims to keep (all pooled templates).");
      const free = r.gauge("podflare_pool_free", "Ready sandboxes in the warm pool now.");
      const hits = r.counter("podflare_pool_hits_total", "Creates served from the warm pool.");
      const misses = r.counter("podflare_pool_misses_total", "Creates that found the warm pool empty and booted a sandbox.");
      r.onCollect(() => {
        const s = pool();
        size.set({}, s.size);
        free.set({}, s.free);
        hits.set({}, s.hits);
        misses.set({}, s.misses);
      });
    }
    if (sources.usage) {
      const usage = sources.usage;
      const created = r.counter("podflare_owner_sandboxes_created_total", "Sandboxes created, by owner key id.", ["key_id"]);
      const seconds = r.counter("podflare_owner_sandbox_seconds_total", "Sandbox-seconds used (running ones included), by owner key id.", ["key_id"]);
      const gbs = r.counter("podflare_owner_memory_gb_seconds_total", "GB-seconds of memory reserved, by owner key id.", ["key_id"]);
      const execs = r.counter("podflare_owner_execs_total", "Execs run, by owner key id.", ["key_id"]);
      const forks = r.counter("podflare_owner_forks_total", "Fork children made, by owner key id.", ["key_id"]);
      r.onCollect(() => {
        for (const u of usage()) {
          const l = { key_id: u.owner };
          created.set(l, u.sandboxes_created);
          seconds.set(l, u.sandbox_seconds);
          gbs.set(l, u.gb_seconds);
          execs.set(l, u.execs);
          forks.set(l, u.forks);
        }
      });
    }
    if (sources.poolRoot) {
      const root = sources.poolRoot;
      const cpu = r.counter("podflare_host_cpu_seconds_total", "The host's CPU time since boot by mode, all cores added (/proc/stat).", ["mode"]);
      const memTotal = r.gauge("podflare_host_memory_total_bytes", "The host's memory (MemTotal).");
      const memAvail = r.gauge("podflare_host_memory_available_bytes", "Memory available for new work on the host (MemAvailable).");
      const diskSize = r.gauge("podflare_pool_disk_size_bytes", "Size of the storage pool's filesystem.");
      const diskFree = r.gauge("podflare_pool_disk_free_bytes", "Free bytes in the storage pool's filesystem.");
      r.onCollect(() => {
        const h = readHostStats(root);
        for (const [mode, s] of Object.entries(h.cpuSeconds)) cpu.set({ mode }, s);
        memTotal.set({}, h.memory.total);
        memAvail.set({}, h.memory.available);
        if (h.poolDisk) {
          diskSize.set({}, h.poolDisk.size);
          diskFree.set({}, h.poolDisk.free);
        }
      });
    }
    if (sources.cleanerBacklog) {
      this.cachedGauge("podflare_btrfs_deleted_subvolumes", "Deleted btrfs subvolumes the cleaner has not freed yet (btrfs subvolume list -d; read at most every 10 s).", sources.cleanerBacklog);
    }
    if (sources.networkRules) {
      this.cachedGauge("podflare_network_rules", "Rules in the router's nftables table (read at most every 10 s).", sources.networkRules);
    }
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.requestSeconds.observe({ method, route }, seconds);
  }

  /** Times `work` under `op`; its result or error passes through untouched. */
  async timeOp<T>(op: OpName, work: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome = "error";
    try {
      const v = await work();
      outcome = "ok";
      return v;
    } finally {
      this.opSeconds.observe({ op, outcome }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  render(): Promise<string> {
    return this.registry.render();
  }

  private cachedGauge(name: string, help: string, read: () => Promise<number>): void {
    const reading = new CachedReading(read, TOOL_READING_MAX_AGE_MS);
    const g = this.registry.gauge(name, help);
    this.registry.onCollect(async () => {
      const v = await reading.get();
      if (v === null) g.reset();
      else g.set({}, v);
    });
  }
}
