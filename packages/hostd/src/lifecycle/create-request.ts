// What a create request turns into: limits after the tier's caps, and the checked network policy.
// Pure; the sandbox manager applies them.
import os from "node:os";
import { PodflareError, type AppliedLimits, type CreateSandboxRequest, type NetworkPolicy } from "@podflare/protocol";
import { clampToTier, tiers, type TierName } from "../auth/tiers.js";
import type { HostdConfig } from "../config.js";
import { isOpen, parsePolicy, policyToWire } from "../network/policy.js";

/** Limits after defaults and the tier's caps, what was lowered, and what this host cannot give. */
export function applyLimits(req: CreateSandboxRequest, tierName: TierName, cfg: HostdConfig): { applied: AppliedLimits; clamped: string[]; warnings: string[] } {
  const warnings: string[] = [];
  const host = { memoryMb: Math.floor(os.totalmem() / 1024 / 1024), cpus: os.availableParallelism() };
  const { clamped, ...limits } = clampToTier(req, tiers[tierName], cfg.defaults, host);
  const networking = cfg.network !== null;
  const applied: AppliedLimits = { ...limits, egress: networking && req.egress !== false, persistent: req.persistent === true };
  if (req.lifetime_s !== undefined) {
    applied.lifetime_s = Math.min(req.lifetime_s, applied.max_lifetime_s);
    if (applied.lifetime_s < req.lifetime_s) clamped.push("lifetime_s");
  }
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
