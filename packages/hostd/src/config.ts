// hostd configuration: embedded defaults, overridden by environment variables.
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { isTierName, tierNames, type TierName } from "./auth/tiers.js";
import { isIpv4, parseCidr } from "./network/addresses.js";
import type { NetworkConfig } from "./network/network-service.js";
import { defaultCeiling, hostTaskLimit, type SandboxesCeiling } from "./jail/ceiling.js";
import { regionTagFor, regionTagPattern } from "@podflare/protocol";

export interface HostdConfig {
  /** host:port the REST API listens on. */
  addr: { host: string; port: number };
  stateDir: string;
  /** Name of the cgroup that holds this hostd's sandboxes (one per state dir). */
  cgroupParent: string;
  /** PODFLARE_CGROUP_FAVORDYNMODS (on|off): mount a favordynmods hierarchy so cgroup moves do not wait (jail/cgroup-dynmods.ts). */
  cgroupFavorDynmods: boolean;
  /** Where template tarballs are cached; shareable between state dirs. */
  templateCacheDir: string;
  storageDriver: "btrfs" | "dir" | "auto";
  poolSizeGb?: number;
  /** API keys accepted when no key store is configured (PODFLARE_API_KEYS). */
  apiKeys: string[];
  /** Tier of the PODFLARE_API_KEYS keys (stored keys carry their own). */
  apiKeysTier: TierName;
  /** PODFLARE_ADMIN_KEY: may manage keys through /v1/keys. */
  adminKey?: string;
  authDisabled: boolean;
  uidBase: number;
  /** Percent of the storage pool one owner's sandboxes may hold together (the local caller: no limit). */
  ownerDiskPercent: number;
  /**
   * MB a second of program output (exec, processes, terminals) one key's sandboxes may have
   * hostd relay, four seconds' worth at once (PODFLARE_OUTPUT_MB_PER_S_PER_KEY; 0: no limit;
   * the local caller: none).
   */
  outputMbPerSPerKey: number;
  uidCount: number;
  defaultTemplate: string;
  /** Templates built at start if missing. */
  ensureTemplates: string[];
  defaults: { memoryMb: number; diskMb: number; vcpus: number; idleTimeoutS: number; maxLifetimeS: number; pidsMax: number };
  exec: { defaultTimeoutMs: number; maxTimeoutMs: number; killGraceMs: number };
  maxSandboxes: number;
  /** Per-owner Space caps of this host, below the tiers' (PODFLARE_SPACES_PER_OWNER, PODFLARE_SPACE_MB_PER_OWNER). */
  spaceCaps: { maxSpaces?: number; storageMb?: number };
  /**
   * Port proxy: how long the server inside may take to accept a connection, and to send its
   * answer's headers (PODFLARE_PROXY_TIMEOUT_MS); past either the caller gets a 504.
   */
  proxy: { connectTimeoutMs: number; responseTimeoutMs: number };
  /** Warm pool: ready sandboxes kept per pooled template (0 turns the pool off). */
  poolSize: number;
  poolRefillParallel: number;
  /** Pooled sandboxes one spawn from a template's zygote makes at most; 0: every pooled sandbox boots cold. */
  poolSpawnBatch: number;
  poolTemplates: string[];
  /** Sandbox networking (docs/network.md); null when PODFLARE_NETWORK=off. */
  network: NetworkConfig | null;
  /** PODFLARE_REGION: the region name this hostd answers to in create/resume `region`; unset: none. */
  region?: string;
  /** PODFLARE_REGION_TAG, else derived from the region: the 4 hex digits its ids start with (docs/edge.md). */
  regionTag?: string;
  /** What all sandboxes together may use (PODFLARE_SANDBOXES_MEMORY_MB, PODFLARE_SANDBOXES_PIDS_MAX). */
  sandboxesCeiling: SandboxesCeiling;
  /**
   * How long the guest kernel may take to answer a file request (the first answer of a read,
   * a remove, the end of an upload) before the request fails (PODFLARE_GUEST_REPLY_TIMEOUT_MS).
   */
  guestReplyTimeoutMs: number;
  /** MCP over Streamable HTTP at /mcp (docs/mcp.md): sessions' idle timeout, caps, request size. */
  mcp: { idleTimeoutS: number; maxSessions: number; maxSessionsPerOwner: number; maxBodyBytes: number };
  /** The API server's limits against slow or too many clients (docs/operations.md). */
  http: HttpLimits;
  /** PODFLARE_METRICS_ADDR: a bind serving /metrics alone, without auth (docs/operations.md); unset: none. */
  metricsAddr?: { host: string; port: number };
  /** PODFLARE_E2B_TEMPLATES: E2B template names → ours (e2b/shapes.ts); unset: the built-in map. */
  e2bTemplates?: string;
  /** Usage snapshots for GET /v1/usage/history: how often one is taken and how long they are kept. */
  usageHistory: { intervalMs: number; retentionMs: number };
}

export interface HttpLimits {
  /** Time to receive a request's headers (PODFLARE_HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (PODFLARE_HTTP_KEEPALIVE_TIMEOUT_MS). */
  keepAliveTimeoutMs: number;
  /**
   * A connection on which nothing moved either way for this long is closed: a stalled body, a
   * client that stopped reading (PODFLARE_HTTP_IDLE_TIMEOUT_MS). Long streams that progress are
   * never cut, whatever their length.
   */
  idleTimeoutMs: number;
  /** Open connections at most, in total and from one peer address (PODFLARE_HTTP_MAX_CONNECTIONS[_PER_PEER]). */
  maxConnections: number;
  maxConnectionsPerPeer: number;
  /** MB of request bodies held at once, per key (peer before auth) and in all (PODFLARE_HTTP_BODY_MB[_PER_KEY]). */
  bodyMbPerKey: number;
  bodyMb: number;
  /** Requests a second one key may make, twice that in a burst; past it they wait (PODFLARE_HTTP_REQUESTS_PER_S_PER_KEY; 0: no limit). */
  requestsPerSecondPerKey: number;
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** 1 or 0 (unset: 0); anything else is an error rather than silently "off". */
function flagFromEnv(name: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new Error(`${name} must be 1 (on) or 0 (off), got ${JSON.stringify(raw)}`);
}

function storageDriverFromEnv(): HostdConfig["storageDriver"] {
  const raw = process.env.PODFLARE_STORAGE_DRIVER;
  if (raw === undefined || raw === "") return "auto";
  if (raw !== "auto" && raw !== "btrfs" && raw !== "dir") throw new Error(`PODFLARE_STORAGE_DRIVER must be auto, btrfs or dir, got ${JSON.stringify(raw)}`);
  return raw;
}

/** A whole number at least `min` (a size, a count), or an error naming the variable. */
function envWholeAtLeast(name: string, min: number, fallback = min): number {
  const n = envInt(name, fallback);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got ${JSON.stringify(process.env[name])}`);
  return n;
}

function envPercent(name: string, fallback: number): number {
  const n = envWholeAtLeast(name, 1, fallback);
  if (n > 100) throw new Error(`${name} must be a whole number from 1 to 100, got ${JSON.stringify(process.env[name])}`);
  return n;
}

function tierFromEnv(name: string, fallback: TierName): TierName {
  const raw = process.env[name];
  if (!raw) return fallback;
  if (!isTierName(raw)) throw new Error(`${name} must be one of ${tierNames.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw;
}

function onOff(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on" || raw === "1") return true;
  if (raw === "off" || raw === "0") return false;
  throw new Error(`${name} must be on or off, got ${JSON.stringify(raw)}`);
}

export function parseAddr(raw: string, name = "PODFLARE_HOSTD_ADDR"): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(raw.trim());
  if (!m) throw new Error(`${name} must look like 127.0.0.1:7070, got ${JSON.stringify(raw)}`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** The default warm pool: 1% of the host's memory at what one pooled sandbox costs. */
export function poolSizeFor(totalMb: number, spawned: boolean): number {
  return spawned ? Math.min(64, Math.max(2, Math.floor((totalMb * 0.01) / 4))) : Math.min(32, Math.max(2, Math.floor((totalMb * 0.01) / 30)));
}

export function loadConfig(overrides: Partial<HostdConfig> = {}): HostdConfig {
  const stateDir = canonicalPath(process.env.PODFLARE_STATE_DIR || "/var/lib/podflare");
  const totalMb = Math.floor(os.totalmem() / 1024 / 1024);
  const base: HostdConfig = {
    addr: parseAddr(process.env.PODFLARE_HOSTD_ADDR || "127.0.0.1:7070"),
    stateDir,
    cgroupParent: cgroupParentFor(stateDir),
    cgroupFavorDynmods: onOff("PODFLARE_CGROUP_FAVORDYNMODS", true),
    templateCacheDir: process.env.PODFLARE_TEMPLATE_CACHE || path.join(stateDir, "cache"),
    storageDriver: storageDriverFromEnv(),
    poolSizeGb: process.env.PODFLARE_POOL_SIZE_GB ? envWholeAtLeast("PODFLARE_POOL_SIZE_GB", 1) : undefined,
    apiKeys: (process.env.PODFLARE_API_KEYS || "").split(",").map((k) => k.trim()).filter(Boolean),
    apiKeysTier: tierFromEnv("PODFLARE_API_KEYS_TIER", "enterprise"),
    adminKey: process.env.PODFLARE_ADMIN_KEY || undefined,
    authDisabled: flagFromEnv("PODFLARE_AUTH_DISABLED"),
    uidBase: envInt("PODFLARE_UID_BASE", 100000),
    ownerDiskPercent: envPercent("PODFLARE_OWNER_DISK_PERCENT", 50),
    outputMbPerSPerKey: envWholeAtLeast("PODFLARE_OUTPUT_MB_PER_S_PER_KEY", 0, 16),
    uidCount: 65536,
    defaultTemplate: "default",
    ensureTemplates: (process.env.PODFLARE_TEMPLATES || "default").split(",").map((t) => t.trim()).filter(Boolean),
    defaults: { memoryMb: 1024, diskMb: 4096, vcpus: 2, idleTimeoutS: 300, maxLifetimeS: 1800, pidsMax: 1024 },
    exec: {
      defaultTimeoutMs: envWholeAtLeast("PODFLARE_EXEC_TIMEOUT_MS", 1, 10 * 60 * 1000),
      maxTimeoutMs: 24 * 3600 * 1000,
      killGraceMs: envInt("PODFLARE_KILL_GRACE_MS", 2000),
    },
    proxy: { connectTimeoutMs: 10_000, responseTimeoutMs: envInt("PODFLARE_PROXY_TIMEOUT_MS", 60_000) },
    maxSandboxes: envWholeAtLeast("PODFLARE_MAX_SANDBOXES", 1, Math.max(8, Math.floor(totalMb / 64))),
    spaceCaps: {
      // 0 is a cap too (no Spaces); below it is a typo that would close persistent sandboxes.
      maxSpaces: process.env.PODFLARE_SPACES_PER_OWNER ? envWholeAtLeast("PODFLARE_SPACES_PER_OWNER", 0) : undefined,
      storageMb: process.env.PODFLARE_SPACE_MB_PER_OWNER ? envWholeAtLeast("PODFLARE_SPACE_MB_PER_OWNER", 0) : undefined,
    },
    // Sized by memory, not cores: 1% of the host's memory. A pool that holds a burst of creates
    // is what keeps them fast. A spawned sandbox (forked from the zygote, sharing its pages)
    // costs ~4.3 MB of unreclaimable host memory idle, a cold-booted one ~7 MB plus ~12 MB of its
    // own page cache (docs/operations.md): 2 to 64 sandboxes at 4 MB each, or 2 to 32 at 30 MB.
    poolSize: envWholeAtLeast("PODFLARE_POOL_SIZE", 0, poolSizeFor(totalMb, envInt("PODFLARE_POOL_SPAWN_BATCH", 8) > 0)),
    // Boots at once while refilling: one per two cores, so refill never takes every core.
    poolRefillParallel: envInt("PODFLARE_POOL_REFILL_PARALLEL", Math.max(1, Math.floor(os.availableParallelism() / 2))),
    // Refill forks fresh sandboxes from a pristine zygote, this many at a time (docs/security.md, "Warm pool spawn").
    poolSpawnBatch: envInt("PODFLARE_POOL_SPAWN_BATCH", 8),
    poolTemplates: (process.env.PODFLARE_POOL_TEMPLATES || "default").split(",").map((t) => t.trim()).filter(Boolean),
    network: networkFromEnv(),
    region: regionFromEnv(),
    regionTag: regionTagFromEnv(regionFromEnv()),
    sandboxesCeiling: ceilingFromEnv(totalMb),
    guestReplyTimeoutMs: envInt("PODFLARE_GUEST_REPLY_TIMEOUT_MS", 60_000),
    mcp: {
      idleTimeoutS: envInt("PODFLARE_MCP_IDLE_TIMEOUT_S", 600),
      maxSessions: envInt("PODFLARE_MCP_MAX_SESSIONS", 256),
      maxSessionsPerOwner: envInt("PODFLARE_MCP_MAX_SESSIONS_PER_KEY", 16),
      // An upload's base64 travels in one request: 16 MiB carries a 12 MB file.
      maxBodyBytes: 16 * 1024 * 1024,
    },
    http: {
      headersTimeoutMs: envInt("PODFLARE_HTTP_HEADERS_TIMEOUT_MS", 10_000),
      keepAliveTimeoutMs: envInt("PODFLARE_HTTP_KEEPALIVE_TIMEOUT_MS", 65_000),
      idleTimeoutMs: envInt("PODFLARE_HTTP_IDLE_TIMEOUT_MS", 120_000),
      maxConnections: envInt("PODFLARE_HTTP_MAX_CONNECTIONS", 4096),
      maxConnectionsPerPeer: envInt("PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER", 256),
      // An exec's body may be 17 MiB (4 MiB of code, JSON-escaped): a key may send a few at once.
      bodyMbPerKey: envWholeAtLeast("PODFLARE_HTTP_BODY_MB_PER_KEY", 18, 64),
      bodyMb: envWholeAtLeast("PODFLARE_HTTP_BODY_MB", 18, 256),
      requestsPerSecondPerKey: envWholeAtLeast("PODFLARE_HTTP_REQUESTS_PER_S_PER_KEY", 0, 5000),
    },
    metricsAddr: process.env.PODFLARE_METRICS_ADDR ? parseAddr(process.env.PODFLARE_METRICS_ADDR, "PODFLARE_METRICS_ADDR") : undefined,
    e2bTemplates: process.env.PODFLARE_E2B_TEMPLATES,
    usageHistory: {
      intervalMs: envInt("PODFLARE_USAGE_SNAPSHOT_MS", 60_000),
      retentionMs: envInt("PODFLARE_USAGE_RETENTION_H", 24 * 7) * 3_600_000,
    },
  };
  return { ...base, ...overrides };
}

function regionFromEnv(): string | undefined {
  const raw = process.env.PODFLARE_REGION;
  if (raw === undefined || raw === "") return undefined;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(raw)) throw new Error(`PODFLARE_REGION must be a region name like us-west (lowercase letters, digits, "-"), got ${JSON.stringify(raw)}`);
  return raw;
}

/** Ids carry the region's tag so an edge routes them without a lookup; no region, no tag. */
export function regionTagFromEnv(region: string | undefined, raw = process.env.PODFLARE_REGION_TAG): string | undefined {
  if (raw === undefined || raw === "") return region === undefined ? undefined : regionTagFor(region);
  if (!regionTagPattern.test(raw)) throw new Error(`PODFLARE_REGION_TAG must be 4 lowercase hex digits like 3fa0 (the start of this region's ids), got ${JSON.stringify(raw)}`);
  if (region === undefined) throw new Error("PODFLARE_REGION_TAG is set but PODFLARE_REGION is not: set both (the tag names a region)");
  return raw;
}

/** The sandboxes' ceiling: derived from the host (jail/ceiling.ts) unless set. */
function ceilingFromEnv(totalMb: number): SandboxesCeiling {
  const derived = defaultCeiling(totalMb, hostTaskLimit());
  const memoryMb = envInt("PODFLARE_SANDBOXES_MEMORY_MB", derived.memoryMb);
  const pidsMax = envInt("PODFLARE_SANDBOXES_PIDS_MAX", derived.pidsMax);
  if (!Number.isInteger(memoryMb) || memoryMb < 64) {
    throw new Error(`PODFLARE_SANDBOXES_MEMORY_MB must be a whole number of MB, at least 64, got ${memoryMb} (default here: ${derived.memoryMb})`);
  }
  if (!Number.isInteger(pidsMax) || pidsMax < 16) {
    throw new Error(`PODFLARE_SANDBOXES_PIDS_MAX must be a whole number, at least 16, got ${pidsMax} (default here: ${derived.pidsMax})`);
  }
  return { memoryMb, pidsMax };
}

/**
 * `p` absolute, with the symlinks of the part that exists resolved. The state dir is named by
 * it: the kernel's mount table, the lock and the cgroup name all see one path, however the
 * operator spelled it (a `down` through a symlink would otherwise miss the mounted pool).
 */
export function canonicalPath(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return path.join(fs.realpathSync(at), ...rest.reverse());
    } catch {
      if (at === path.dirname(at)) return abs;
      rest.push(path.basename(at));
    }
  }
}

/**
 * Each state dir gets its own cgroup parent, so two hostds on one machine (a test run beside a
 * production one) never reconcile away each other's sandboxes.
 */
export function cgroupParentFor(stateDir: string): string {
  const resolved = path.resolve(stateDir);
  if (resolved === "/var/lib/podflare") return "podflare";
  return `podflare-${crypto.createHash("sha256").update(resolved).digest("hex").slice(0, 8)}`;
}

/** Link-local (cloud metadata at 169.254.169.254) and the private ranges of the operator's own networks. */
export const DEFAULT_DENY_OUT = ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "224.0.0.0/4"];

function list(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

function networkFromEnv(): NetworkConfig | null {
  const mode = process.env.PODFLARE_NETWORK || "on";
  if (mode === "off") return null;
  if (mode !== "on") throw new Error(`PODFLARE_NETWORK must be on or off, got ${JSON.stringify(mode)}`);
  const cidr = process.env.PODFLARE_NET_CIDR || undefined;
  if (cidr) parseCidr(cidr);
  const denied = list(process.env.PODFLARE_NET_DENY_OUT) ?? DEFAULT_DENY_OUT;
  for (const c of denied) parseCidr(c);
  const ports = (list(process.env.PODFLARE_NET_GATEWAY_PORTS) ?? []).map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535 || n === 53) throw new Error(`PODFLARE_NET_GATEWAY_PORTS: ${JSON.stringify(p)} is not a TCP port (1-65535, not 53)`);
    return n;
  });
  // PODFLARE_DNS_STATIC="pkgs.internal=192.0.2.10,mirror.internal=192.0.2.11|192.0.2.12"
  const dnsStatic: Record<string, string[]> = {};
  for (const entry of list(process.env.PODFLARE_DNS_STATIC) ?? []) {
    const [name, addrs] = entry.split("=");
    const ips = (addrs ?? "").split("|").filter(Boolean);
    if (!name || ips.length === 0 || !ips.every(isIpv4)) throw new Error(`PODFLARE_DNS_STATIC: ${JSON.stringify(entry)} must look like name=192.0.2.1|192.0.2.2`);
    dnsStatic[name.toLowerCase().replace(/\.$/, "")] = ips;
  }
  const upstreamRaw = process.env.PODFLARE_DNS_UPSTREAM || "auto";
  const dnsUpstream = upstreamRaw === "none" ? [] : upstreamRaw === "auto" ? hostResolvers() : list(upstreamRaw)!;
  if (!dnsUpstream.every(isIpv4)) throw new Error(`PODFLARE_DNS_UPSTREAM must be auto, none or IPv4 addresses, got ${JSON.stringify(upstreamRaw)}`);
  const dnsQps = envInt("PODFLARE_DNS_QPS", 50);
  if (!(dnsQps >= 1)) throw new Error(`PODFLARE_DNS_QPS must be at least 1 (DNS queries per second per sandbox), got ${dnsQps}`);
  const reconcileMs = envInt("PODFLARE_NET_RECONCILE_MS", 30_000);
  if (!(reconcileMs >= 100)) throw new Error(`PODFLARE_NET_RECONCILE_MS must be at least 100 (ms between checks of the router's rules), got ${reconcileMs}`);
  // The host's own subnets join the default deny list; an operator's explicit list is taken as is.
  const denyHostSubnets = process.env.PODFLARE_NET_DENY_OUT === undefined;
  return { cidr, deniedCidrs: denied, gatewayTcpPorts: ports, dnsStatic, dnsUpstream, dnsQps, reconcileMs, denyHostSubnets };
}

/** The host's resolvers from /etc/resolv.conf, except loopback ones (unreachable from the router). */
function hostResolvers(): string[] {
  let text = "";
  try {
    text = fs.readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).filter((ip) => isIpv4(ip) && !ip.startsWith("127."));
}
