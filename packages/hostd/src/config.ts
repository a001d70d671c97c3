// hostd configuration: embedded defaults, overridden by environment variables.
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { isTierName, tierNames, type TierName } from "./auth/tiers.js";

export interface HostdConfig {
  /** host:port the REST API listens on. */
  addr: { host: string; port: number };
  stateDir: string;
  /** Name of the cgroup that holds this hostd's sandboxes (one per state dir). */
  cgroupParent: string;
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
  uidCount: number;
  defaultTemplate: string;
  /** Templates built at start if missing. */
  ensureTemplates: string[];
  defaults: { memoryMb: number; diskMb: number; vcpus: number; idleTimeoutS: number; maxLifetimeS: number; pidsMax: number };
  exec: { defaultTimeoutMs: number; maxTimeoutMs: number; killGraceMs: number };
  maxSandboxes: number;
  /** Warm pool: ready sandboxes kept per pooled template (0 turns the pool off). */
  poolSize: number;
  poolRefillParallel: number;
  poolTemplates: string[];
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

function tierFromEnv(name: string, fallback: TierName): TierName {
  const raw = process.env[name];
  if (!raw) return fallback;
  if (!isTierName(raw)) throw new Error(`${name} must be one of ${tierNames.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw;
}

export function parseAddr(raw: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(raw.trim());
  if (!m) throw new Error(`PODFLARE_HOSTD_ADDR must look like 127.0.0.1:7070, got ${JSON.stringify(raw)}`);
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export function loadConfig(overrides: Partial<HostdConfig> = {}): HostdConfig {
  const stateDir = process.env.PODFLARE_STATE_DIR || "/var/lib/podflare";
  const totalMb = Math.floor(os.totalmem() / 1024 / 1024);
  const base: HostdConfig = {
    addr: parseAddr(process.env.PODFLARE_HOSTD_ADDR || "127.0.0.1:7070"),
    stateDir,
    cgroupParent: cgroupParentFor(stateDir),
    templateCacheDir: process.env.PODFLARE_TEMPLATE_CACHE || path.join(stateDir, "cache"),
    storageDriver: (process.env.PODFLARE_STORAGE_DRIVER as HostdConfig["storageDriver"]) || "auto",
    poolSizeGb: process.env.PODFLARE_POOL_SIZE_GB ? envInt("PODFLARE_POOL_SIZE_GB", 0) : undefined,
    apiKeys: (process.env.PODFLARE_API_KEYS || "").split(",").map((k) => k.trim()).filter(Boolean),
    apiKeysTier: tierFromEnv("PODFLARE_API_KEYS_TIER", "enterprise"),
    adminKey: process.env.PODFLARE_ADMIN_KEY || undefined,
    authDisabled: process.env.PODFLARE_AUTH_DISABLED === "1",
    uidBase: envInt("PODFLARE_UID_BASE", 100000),
    uidCount: 65536,
    defaultTemplate: "default",
    ensureTemplates: (process.env.PODFLARE_TEMPLATES || "default").split(",").map((t) => t.trim()).filter(Boolean),
    defaults: { memoryMb: 1024, diskMb: 4096, vcpus: 2, idleTimeoutS: 300, maxLifetimeS: 1800, pidsMax: 1024 },
    exec: {
      defaultTimeoutMs: envInt("PODFLARE_EXEC_TIMEOUT_MS", 10 * 60 * 1000),
      maxTimeoutMs: 24 * 3600 * 1000,
      killGraceMs: envInt("PODFLARE_KILL_GRACE_MS", 2000),
    },
    maxSandboxes: envInt("PODFLARE_MAX_SANDBOXES", Math.max(8, Math.floor(totalMb / 64))),
    // Sized by memory, not cores: a ready sandbox costs ~30 MB idle, and a pool that holds
    // a burst of creates is what keeps them fast (1% of the host's memory, 2 to 32 sandboxes).
    poolSize: envInt("PODFLARE_POOL_SIZE", Math.min(32, Math.max(2, Math.floor((totalMb * 0.01) / 30)))),
    // Boots at once while refilling: one per two cores, so refill never takes every core.
    poolRefillParallel: envInt("PODFLARE_POOL_REFILL_PARALLEL", Math.max(1, Math.floor(os.availableParallelism() / 2))),
    poolTemplates: (process.env.PODFLARE_POOL_TEMPLATES || "default").split(",").map((t) => t.trim()).filter(Boolean),
  };
  return { ...base, ...overrides };
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
