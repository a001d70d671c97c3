// The regions the edge fronts and what it knows of each: healthy or not, the probe's round
// trip, the id tag. Active probes (GET /v1/healthz every probeIntervalMs) set health and RTT;
// a connection that real traffic cannot make marks a region down at once, the next good probe up.
import http from "node:http";
import https from "node:https";
import { regionTagFor } from "@podflare/protocol";
import type { EdgeConfig, RegionConfig } from "./config.js";

export class Region {
  readonly name: string;
  readonly url: URL;
  /** Keep-alive connections to this origin, shared by every request the edge forwards. */
  readonly agent: http.Agent;
  readonly transport: typeof http | typeof https;
  tag: string;
  /** Set only in the config: a hostd answering another tag is then a misconfiguration. */
  readonly pinnedTag: boolean;
  healthy = false;
  /** Smoothed probe round trip, ms; undefined before the first good probe. */
  rttMs: number | undefined;
  lastProbeMs: number | undefined;
  /** Why the region is down, for /v1/regions, error answers and the log: never the origin's address. */
  error: string | undefined = "not probed yet";
  probes = { ok: 0, failed: 0 };
  /** Probes in a row that timed out. */
  slowStreak = 0;

  constructor(cfg: RegionConfig, maxSockets = 1024) {
    this.name = cfg.name;
    this.url = new URL(cfg.url);
    this.tag = cfg.tag ?? regionTagFor(cfg.name);
    this.pinnedTag = cfg.tag !== undefined;
    this.transport = this.url.protocol === "https:" ? https : http;
    // Idle sockets close after 30 s, before hostd's 65 s keep-alive: a create is then never
    // written into a socket the origin is closing (it could not be retried safely).
    // At most maxSockets open to the origin (its PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER must be
    // at least this): beyond, requests wait here rather than being refused there.
    const opts = { keepAlive: true, timeout: 30_000, scheduling: "lifo" as const, maxSockets };
    this.agent = this.url.protocol === "https:" ? new https.Agent(opts) : new http.Agent(opts);
  }

  markDown(reason: string): void {
    this.healthy = false;
    this.error = reason;
  }
}

export class RegionSet {
  readonly list: Region[];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: EdgeConfig, private readonly log: (msg: string) => void) {
    this.list = cfg.regions.map((r) => new Region(r, cfg.maxSocketsPerRegion));
  }

  byName(name: string): Region | undefined {
    return this.list.find((r) => r.name === name);
  }

  byTag(tag: string): Region | undefined {
    return this.list.find((r) => r.tag === tag);
  }

  /** Healthy regions, nearest (smallest probe RTT) first. */
  nearest(): Region[] {
    return this.list.filter((r) => r.healthy).sort((a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity));
  }

  /** Probes every region now, then every probeIntervalMs until stop(). */
  async start(): Promise<void> {
    await this.probeAll();
    const tick = (): void => {
      this.timer = setTimeout(() => void this.probeAll().finally(() => this.timer && tick()), this.cfg.probeIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.list) r.agent.destroy();
  }

  probeAll(): Promise<void> {
    return Promise.all(this.list.map((r) => this.probe(r))).then(() => undefined);
  }

  private async probe(r: Region): Promise<void> {
    const started = performance.now();
    const result = await probeOnce(r, this.cfg.probeTimeoutMs);
    const ms = performance.now() - started;
    r.lastProbeMs = ms;
    const problem = typeof result === "string" ? result : this.check(r, result);
    if (problem) {
      r.probes.failed++;
      r.slowStreak = problem.includes("did not answer in") ? r.slowStreak + 1 : 0;
      // One slow probe on a busy host is not an outage: a healthy region goes down on the
      // second slow probe in a row, or at once when it refuses or answers wrongly.
      if (r.healthy && r.slowStreak === 1) return;
      if (r.healthy || r.error !== problem) this.log(`region ${r.name} (${r.url.host}) is down: ${problem}`);
      r.markDown(problem);
      return;
    }
    r.probes.ok++;
    r.slowStreak = 0;
    r.rttMs = r.rttMs === undefined ? ms : 0.7 * r.rttMs + 0.3 * ms;
    if (!r.healthy) this.log(`region ${r.name} is up (${r.url.host}, probe ${ms.toFixed(1)} ms, id tag ${r.tag})`);
    r.healthy = true;
    r.error = undefined;
  }

  /** The origin must say it is this region; its tag (learned here) must not be another region's. */
  private check(r: Region, h: { region?: string; tag?: string }): string | undefined {
    if (h.region !== r.name) {
      return h.region
        ? `its hostd says it is region ${h.region}, not ${r.name}: fix the edge's region map or that hostd's PODFLARE_REGION`
        : `its hostd has no region: set PODFLARE_REGION=${r.name} on it (its ids must carry the region's tag)`;
    }
    if (!h.tag) return `its hostd sent no id tag; upgrade it (its ids would not route)`;
    if (h.tag !== r.tag) {
      if (r.pinnedTag) return `its hostd tags ids ${h.tag}, the edge's config says ${r.tag}: make them agree (PODFLARE_REGION_TAG)`;
      const other = this.byTag(h.tag);
      if (other && other !== r) return `its hostd tags ids ${h.tag}, already region ${other.name}'s: give it its own PODFLARE_REGION_TAG`;
      r.tag = h.tag;
    }
    return undefined;
  }
}

/** One GET /v1/healthz: the region and tag headers, or why it failed. */
function probeOnce(r: Region, timeoutMs: number): Promise<{ region?: string; tag?: string } | string> {
  return new Promise((resolve) => {
    const req = r.transport.request(new URL("/v1/healthz", r.url + "/"), { agent: r.agent, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return resolve(`healthz answered ${res.statusCode}`);
        const h = (name: string) => (typeof res.headers[name] === "string" ? (res.headers[name] as string) : undefined);
        resolve({ region: h("x-podflare-region"), tag: h("x-podflare-region-tag") });
      });
      res.on("error", (err) => resolve(`healthz: ${err.message}`));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(`healthz did not answer in ${timeoutMs} ms (PODFLARE_EDGE_PROBE_TIMEOUT_MS)`);
    }, timeoutMs);
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`cannot reach its hostd: ${err.code ?? "connection error"}`);
    });
    req.end();
  });
}
