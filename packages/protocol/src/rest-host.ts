// REST shapes of the host-wide reads: GET /v1/capacity and GET /v1/usage.
import type { TierName } from "./rest-keys.js";

/** The warm pool's numbers (an admin's GET /v1/capacity). */
export interface PoolStats {
  size: number;
  free: number;
  hits: number;
  misses: number;
  hit_rate: number;
  /** How refill makes sandboxes now: forked from a zygote, or booted cold. */
  refill: "spawn" | "boot";
}

/** GET /v1/capacity with an admin key: the whole host. */
export interface HostCapacityResponse {
  scope: "host";
  sandboxes: number;
  max_sandboxes: number;
  pool: PoolStats;
}

/** GET /v1/capacity with a tenant key: that key's own sandboxes against its tier's cap. */
export interface OwnerCapacityResponse {
  scope: "owner";
  tier: TierName;
  sandboxes: number;
  max_sandboxes: number;
}

export type CapacityResponse = HostCapacityResponse | OwnerCapacityResponse;

/** GET /v1/usage: the calling key's totals, running sandboxes counted up to now. */
export interface UsageReport {
  owner: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

/** One owner's usage totals (as in UsageReport) as they stood at `at` (ISO time). */
export interface UsageHistoryPoint extends UsageReport {
  at: string;
}

/** GET /v1/usage/history?since=: snapshots every `interval_s`, oldest first, and each owner's totals now. */
export interface UsageHistoryResponse {
  interval_s: number;
  since: string;
  points: UsageHistoryPoint[];
  current: UsageHistoryPoint[];
}
