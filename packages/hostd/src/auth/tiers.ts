// Tiers (DESIGN.md section 7): caps per API key. A request above a cap is clamped to it and the
// answer names the clamped fields; concurrency is not clampable (429).

export type TierName = "free" | "pro" | "scale" | "enterprise";
export const tierNames: readonly TierName[] = ["free", "pro", "scale", "enterprise"];

export interface Tier {
  memoryMb: number;
  diskMb: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
  concurrentSandboxes: number;
  persistentSpaces: boolean;
  /** Spaces an owner may keep at once, and the disk they may take together (what their sandboxes wrote). */
  maxSpaces: number;
  spaceStorageMb: number;
  /**
   * Sandboxes an owner may start a second (creates, fork children, Space resumes), on average,
   * and at once after a quiet spell: making and removing sandboxes costs the host work no
   * sandbox's cgroup pays for (lifecycle/create-rate.ts).
   */
  createsPerS: number;
  createBurst: number;
}

export const tiers: Record<TierName, Tier> = {
  free: { memoryMb: 1024, diskMb: 4096, idleTimeoutS: 5 * 60, maxLifetimeS: 30 * 60, concurrentSandboxes: 10, persistentSpaces: false, maxSpaces: 0, spaceStorageMb: 0, createsPerS: 2, createBurst: 30 },
  pro: { memoryMb: 4096, diskMb: 16384, idleTimeoutS: 30 * 60, maxLifetimeS: 8 * 3600, concurrentSandboxes: 50, persistentSpaces: true, maxSpaces: 20, spaceStorageMb: 20 * 1024, createsPerS: 5, createBurst: 150 },
  scale: { memoryMb: 16384, diskMb: 65536, idleTimeoutS: 2 * 3600, maxLifetimeS: 24 * 3600, concurrentSandboxes: 500, persistentSpaces: true, maxSpaces: 200, spaceStorageMb: 200 * 1024, createsPerS: 20, createBurst: 1500 },
  enterprise: { memoryMb: 65536, diskMb: 524288, idleTimeoutS: 24 * 3600, maxLifetimeS: 7 * 86400, concurrentSandboxes: 10000, persistentSpaces: true, maxSpaces: 10000, spaceStorageMb: 10 * 1024 * 1024, createsPerS: 100, createBurst: 30000 },
};

export function isTierName(value: unknown): value is TierName {
  return typeof value === "string" && (tierNames as readonly string[]).includes(value);
}

export interface Requested {
  memory_mb?: number;
  disk_mb?: number;
  vcpus?: number;
  idle_timeout_s?: number;
  max_lifetime_s?: number;
}

export interface Defaults {
  memoryMb: number;
  diskMb: number;
  vcpus: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
}

export interface Host {
  memoryMb: number;
  cpus: number;
}

export interface Clamped {
  memory_mb: number;
  disk_mb: number;
  vcpus: number;
  idle_timeout_s: number;
  max_lifetime_s: number;
  /** Request fields lowered to a cap (the tier's, or the host's where it is smaller). */
  clamped: string[];
}

/** Applies defaults, then the tier's caps and the host's size. Pure: unit-tested beside. */
export function clampToTier(req: Requested, tier: Tier, defaults: Defaults, host: Host): Clamped {
  const clamped: string[] = [];
  const cap = (field: keyof Requested, value: number, max: number) => {
    if (value > max) {
      if (req[field] !== undefined) clamped.push(field);
      return max;
    }
    return value;
  };
  return {
    memory_mb: cap("memory_mb", req.memory_mb ?? defaults.memoryMb, Math.min(tier.memoryMb, host.memoryMb)),
    disk_mb: cap("disk_mb", req.disk_mb ?? defaults.diskMb, tier.diskMb),
    vcpus: cap("vcpus", req.vcpus ?? defaults.vcpus, host.cpus),
    idle_timeout_s: cap("idle_timeout_s", req.idle_timeout_s ?? defaults.idleTimeoutS, tier.idleTimeoutS),
    max_lifetime_s: cap("max_lifetime_s", req.max_lifetime_s ?? defaults.maxLifetimeS, tier.maxLifetimeS),
    clamped,
  };
}
