// The rows the store keeps, as typed records: what every implementation reads and writes.
import type { AppliedLimits, NetworkPolicy, SandboxState, SpaceManifest } from "@podflare/protocol";
import type { TierName } from "../auth/tiers.js";

export interface KeyRecord {
  id: string;
  name: string;
  tier: TierName;
  admin: boolean;
  /** The first characters of the key, for people to tell keys apart; never enough to use it. */
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A key as stored: its record and the SHA-256 hash of the plain key (the key itself is never stored). */
export interface StoredKey extends KeyRecord {
  hash: string;
}

/** One owner's finished-sandbox totals and counters. */
export interface UsageCounts {
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

export interface SandboxRecord {
  id: string;
  owner: string;
  template: string;
  state: SandboxState;
  parentId: string | null;
  applied: AppliedLimits;
  metadata: Record<string, string>;
  env: Record<string, string>;
  initPid: number | null;
  initStartTime: string | null;
  /** The id whose runtime (cgroup, root, kernel socket) this record uses; differs from id after merge_into. */
  runtimeKey: string;
  familyId: string | null;
  familyPid: number | null;
  familyStartTime: string | null;
  /**
   * For a fork child: its parent's runtimeKey when it was forked. A merge of the parent since
   * then changed the parent's runtimeKey, and this child no longer descends from its state.
   */
  forkedFrom: string | null;
  /**
   * Paused by a call (POST …/pause), not by the reaper: kept paused until a call wakes it, it is
   * closed, or it reaches max_lifetime_s; the idle rule never closes it.
   */
  pausedByCall: boolean;
  /** A warm-pool spawn's zygote family, whose pid namespace holds this record's family. */
  outerFamily: { id: string; pid: number; startTime: string } | null;
  /** Egress policy as the API gave it (null: open). */
  network: NetworkPolicy | null;
  createdAt: number;
  lastActiveAt: number;
}

/** A frozen sandbox's settings and what its freeze kept or lost. */
export interface SpaceRecord {
  id: string;
  owner: string;
  sourceId: string;
  template: string;
  applied: AppliedLimits;
  env: Record<string, string>;
  metadata: Record<string, string>;
  manifest: SpaceManifest;
  network: NetworkPolicy | null;
  /** "freeze" (asked for), "idle" or "lifetime" (the reaper). */
  reason: string;
  createdAt: number;
  bytes: number;
}

/** One owner's usage totals as they stood at `at` (ms): a point of GET /v1/usage/history. */
export interface UsagePoint extends UsageCounts {
  owner: string;
  at: number;
}
