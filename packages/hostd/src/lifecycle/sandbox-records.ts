// Pure pieces of the sandbox manager: what a create request turns into (limits, network policy),
// what a record looks like on the API (info), and the runtime handle stored with it.
import os from "node:os";
import {
  PodflareError,
  type AppliedLimits,
  type CreateSandboxRequest,
  type NetworkPolicy,
  type SandboxInfo,
} from "@podflare/protocol";
import { clampToTier, tiers, type TierName } from "../auth/tiers.js";
import type { HostdConfig } from "../config.js";
import { isOpen, parsePolicy, policyToWire } from "../network/policy.js";
import type { RuntimeHandle, RuntimeSandbox } from "../runtime/types.js";
import type { SandboxRecord } from "../store/sandboxes.js";

/** What the ns runtime does not carry into fork children (also in docs/api.md and docs/fork.md). */
export const NOT_CARRIED = [
  "processes other than the guest kernel (servers and background jobs started from bash or subprocess) stay in the parent",
  "threads other than the REPL's main thread",
  "open sockets and pipes: a child's copies are not connected to anything new (the parent's peers keep talking to the parent)",
  "files the REPL holds open that were deleted from disk: the child shares them with the parent",
] as const;

export type { ForkResponse } from "@podflare/protocol";

export function notFound(id: string): PodflareError {
  return new PodflareError("sandbox_not_found", `sandbox ${id} not found; it may have been closed or never existed`);
}

/** Limits after defaults and the tier's caps, what was lowered, and what this host cannot give. */
export function applyLimits(req: CreateSandboxRequest, tierName: TierName, cfg: HostdConfig): { applied: AppliedLimits; clamped: string[]; warnings: string[] } {
  const warnings: string[] = [];
  const host = { memoryMb: Math.floor(os.totalmem() / 1024 / 1024), cpus: os.availableParallelism() };
  const { clamped, ...limits } = clampToTier(req, tiers[tierName], cfg.defaults, host);
  const networking = cfg.network !== null;
  const applied: AppliedLimits = { ...limits, egress: networking && req.egress !== false, persistent: req.persistent === true };
  if (req.egress !== false && !networking) {
    warnings.push("egress: networking is turned off on this host (PODFLARE_NETWORK=off); the sandbox has loopback only");
  }
  return { applied, clamped, warnings };
}

/** The create request's policy, checked (null: open). */
export function networkOf(req: CreateSandboxRequest, networking: boolean): NetworkPolicy | null {
  if (req.network === undefined || req.network === null) return null;
  const parsed = parsePolicy(req.network);
  if (req.egress === false) throw new PodflareError("bad_request", "network policy given with egress: false; drop one of them");
  if (!networking) return null;
  return isOpen(parsed) ? null : policyToWire(parsed);
}

export function toInfo(r: SandboxRecord, address: string | null): SandboxInfo {
  const policy = r.network ?? { allow_out: null, deny_out: [] };
  return {
    id: r.id,
    state: r.state,
    template: r.template,
    created_at: new Date(r.createdAt).toISOString(),
    last_active_at: new Date(r.lastActiveAt).toISOString(),
    applied: r.applied,
    metadata: r.metadata,
    parent_id: r.parentId,
    network: {
      egress: r.applied.egress,
      address: r.applied.egress ? address : null,
      allow_out: policy.allow_out ?? null,
      deny_out: policy.deny_out ?? [],
    },
  };
}

/** Whole seconds left of the record's max_lifetime_s at `now` (at least 1): a fork child's lifetime. */
export function remainingLifetimeS(r: Pick<SandboxRecord, "createdAt" | "applied">, now: number): number {
  return Math.max(1, r.applied.max_lifetime_s - Math.floor((now - r.createdAt) / 1000));
}

export function handleOf(r: SandboxRecord): RuntimeHandle {
  return {
    initPid: r.initPid!,
    initStartTime: r.initStartTime!,
    ...(r.familyId && r.familyPid !== null && r.familyStartTime !== null
      ? { family: { id: r.familyId, pid: r.familyPid, startTime: r.familyStartTime } }
      : {}),
    ...(r.outerFamily ? { outerFamily: r.outerFamily } : {}),
  };
}

export function setHandle(r: SandboxRecord, rt: RuntimeSandbox): void {
  r.initPid = rt.handle.initPid;
  r.initStartTime = rt.handle.initStartTime;
  r.familyId = rt.handle.family?.id ?? null;
  r.familyPid = rt.handle.family?.pid ?? null;
  r.familyStartTime = rt.handle.family?.startTime ?? null;
  r.outerFamily = rt.handle.outerFamily ?? null;
}
