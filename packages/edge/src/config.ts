// The edge's settings: the region map (flags, a JSON file or PODFLARE_REGIONS), where it
// listens, and how often it probes. Every mistake is refused at start with the fix named.
import fs from "node:fs";
import { regionTagFor, regionTagPattern } from "@podflare/protocol";

export interface RegionConfig {
  name: string;
  /** The origin hostd's base URL, e.g. http://usw1.internal:7070. */
  url: string;
  /** The 4 hex digits its ids start with: set, else learned from its healthz, else derived from the name. */
  tag?: string;
}

export interface EdgeConfig {
  regions: RegionConfig[];
  /** host:port to listen on (PODFLARE_EDGE_ADDR, default 127.0.0.1:7080). */
  addr: string;
  /** Between health probes of each origin (PODFLARE_EDGE_PROBE_MS). */
  probeIntervalMs: number;
  /** A probe slower than this fails (PODFLARE_EDGE_PROBE_TIMEOUT_MS). */
  probeTimeoutMs: number;
  /** A connection to an origin not made in this time fails over (PODFLARE_EDGE_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs: number;
  /** Largest create body the edge holds to retry it in another region (bytes). */
  maxCreateBodyBytes: number;
  /** Callers' connections: in total, per peer address, and the idle timeout (ms); defaults as hostd's. */
  limits?: { maxConnections: number; maxConnectionsPerPeer: number; idleTimeoutMs: number };
  /** Connections the edge opens to one region at most; more requests wait (PODFLARE_EDGE_MAX_SOCKETS_PER_REGION). */
  maxSocketsPerRegion?: number;
  /** Calls one key (or, without one, one address) may have open to origins at once (PODFLARE_EDGE_CALLS_PER_KEY). */
  callsPerKey?: number;
  /** Bytes of merged lists one key (or address) may have the edge hold at once (PODFLARE_EDGE_LIST_MB_PER_KEY). */
  listBytesPerCaller?: number;
  /** A request head must arrive whole within this (ms); default 10 s. */
  headersTimeoutMs?: number;
  /** The llhttp fast path (front/); PODFLARE_EDGE_FAST_PATH=0 serves through node:http alone. Default on. */
  fastPath?: boolean;
  /** On stop, how long calls under way may take to be answered (PODFLARE_EDGE_DRAIN_MS); default 30 s. */
  drainMs?: number;
}

const namePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

function region(name: string, url: string, tag: string | undefined, where: string): RegionConfig {
  if (!namePattern.test(name)) throw new Error(`${where}: region name ${JSON.stringify(name)} must be lowercase letters, digits and "-" (like us-west), the hostd's PODFLARE_REGION`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`${where}: region ${name}'s URL ${JSON.stringify(url)} is not a URL; write it like http://usw1.internal:7070`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`${where}: region ${name}'s URL must be http:// or https://, got ${JSON.stringify(url)}`);
  if (tag !== undefined && !regionTagPattern.test(tag)) throw new Error(`${where}: region ${name}'s tag must be 4 lowercase hex digits (its hostd's PODFLARE_REGION_TAG), got ${JSON.stringify(tag)}`);
  return { name, url: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`, ...(tag ? { tag } : {}) };
}

/** `us-west=http://a:7070,eu=http://b:7070` (PODFLARE_REGIONS) or one `name=url` (--region). */
export function parseRegionList(raw: string, where: string): RegionConfig[] {
  return raw.split(",").map((s) => s.trim()).filter(Boolean).map((entry) => {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new Error(`${where}: ${JSON.stringify(entry)} must look like us-west=http://usw1.internal:7070`);
    return region(entry.slice(0, eq), entry.slice(eq + 1), undefined, where);
  });
}

/** The JSON file: {"regions": {"us-west": "http://…" | {"url": "http://…", "tag": "3fa0"}}, "addr"?, "probe_interval_ms"?}. */
export function parseConfigFile(text: string, where: string): Partial<EdgeConfig> & { regions: RegionConfig[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  const obj = doc as { regions?: unknown; addr?: unknown; probe_interval_ms?: unknown };
  if (typeof obj !== "object" || obj === null || typeof obj.regions !== "object" || obj.regions === null || Array.isArray(obj.regions)) {
    throw new Error(`${where} must be {"regions": {"us-west": "http://usw1.internal:7070", ...}}`);
  }
  const regions = Object.entries(obj.regions as Record<string, unknown>).map(([name, v]) => {
    if (typeof v === "string") return region(name, v, undefined, where);
    const o = v as { url?: unknown; tag?: unknown };
    if (typeof o !== "object" || o === null || typeof o.url !== "string" || (o.tag !== undefined && typeof o.tag !== "string")) {
      throw new Error(`${where}: region ${name} must be a URL string or {"url": "http://…", "tag": "3fa0"}`);
    }
    return region(name, o.url, o.tag as string | undefined, where);
  });
  const out: Partial<EdgeConfig> & { regions: RegionConfig[] } = { regions };
  if (obj.addr !== undefined) out.addr = String(obj.addr);
  if (obj.probe_interval_ms !== undefined) out.probeIntervalMs = Number(obj.probe_interval_ms);
  return out;
}

function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  const unit = name.endsWith("_MS") ? "a whole number of milliseconds" : "a whole number";
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be ${unit}, at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** The config from argv (`--region name=url` repeatable, `--config file.json`) and the environment. */
export function loadEdgeConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const flagged: RegionConfig[] = [];
  let file: (Partial<EdgeConfig> & { regions: RegionConfig[] }) | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--region") flagged.push(...parseRegionList(value(), "--region"));
    else if (a.startsWith("--region=")) flagged.push(...parseRegionList(a.slice(9), "--region"));
    else if (a === "--config") {
      const p = value();
      file = parseConfigFile(fs.readFileSync(p, "utf8"), p);
    } else throw new Error(`unknown option ${JSON.stringify(a)}; use --region name=url (repeatable) or --config file.json`);
  }
  const regions = flagged.length ? flagged : file?.regions.length ? file.regions : parseRegionList(env.PODFLARE_REGIONS ?? "", "PODFLARE_REGIONS");
  if (regions.length === 0) {
    throw new Error("no regions: give --region us-west=http://usw1.internal:7070 (repeatable), --config file.json or PODFLARE_REGIONS=us-west=http://…,eu=http://…");
  }
  checkUnique(regions);
  const probeIntervalMs = file?.probeIntervalMs ?? envMs(env, "PODFLARE_EDGE_PROBE_MS", 2000, 50);
  if (!Number.isInteger(probeIntervalMs) || probeIntervalMs < 50) throw new Error(`probe_interval_ms must be a whole number, at least 50, got ${probeIntervalMs}`);
  return {
    regions,
    addr: env.PODFLARE_EDGE_ADDR || file?.addr || "127.0.0.1:7080",
    probeIntervalMs,
    probeTimeoutMs: envMs(env, "PODFLARE_EDGE_PROBE_TIMEOUT_MS", 1000, 10),
    connectTimeoutMs: envMs(env, "PODFLARE_EDGE_CONNECT_TIMEOUT_MS", 3000, 10),
    maxCreateBodyBytes: 1024 * 1024,
    limits: {
      maxConnections: envMs(env, "PODFLARE_EDGE_MAX_CONNECTIONS", 4096, 1),
      // A quarter of what an origin takes from one peer (the edge) by default: one caller cannot
      // take every connection an unconfigured origin accepts from the edge.
      maxConnectionsPerPeer: envMs(env, "PODFLARE_EDGE_MAX_CONNECTIONS_PER_PEER", 64, 1),
      idleTimeoutMs: envMs(env, "PODFLARE_EDGE_IDLE_TIMEOUT_MS", 120_000, 100),
    },
    maxSocketsPerRegion: envMs(env, "PODFLARE_EDGE_MAX_SOCKETS_PER_REGION", 1024, 1),
    // A quarter of a region's connections: one key cannot take them all from the others.
    listBytesPerCaller: envMs(env, "PODFLARE_EDGE_LIST_MB_PER_KEY", 16, 1) * 1024 * 1024,
    callsPerKey: envMs(env, "PODFLARE_EDGE_CALLS_PER_KEY", Math.max(1, Math.floor(envMs(env, "PODFLARE_EDGE_MAX_SOCKETS_PER_REGION", 1024, 1) / 4)), 1),
    fastPath: fastPathSetting(env.PODFLARE_EDGE_FAST_PATH),
    drainMs: envMs(env, "PODFLARE_EDGE_DRAIN_MS", 30_000, 0),
  };
}

function fastPathSetting(raw: string | undefined): boolean {
  if (raw === undefined || raw === "" || raw === "1") return true;
  if (raw === "0") return false;
  throw new Error(`PODFLARE_EDGE_FAST_PATH must be 1 (the default) or 0 (serve through node:http alone), got ${JSON.stringify(raw)}`);
}

/** Names and tags must each name one region, or ids could not find their way back. */
export function checkUnique(regions: RegionConfig[]): void {
  const names = new Set<string>();
  const tags = new Map<string, string>();
  for (const r of regions) {
    if (names.has(r.name)) throw new Error(`region ${r.name} is configured twice; give each region once`);
    names.add(r.name);
    const tag = r.tag ?? regionTagFor(r.name);
    const other = tags.get(tag);
    if (other) throw new Error(`regions ${other} and ${r.name} would both have the id tag ${tag}: set PODFLARE_REGION_TAG on one's hostd and the same "tag" for it in the edge's config file`);
    tags.set(tag, r.name);
  }
}
