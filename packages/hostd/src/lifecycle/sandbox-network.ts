// PUT /v1/sandboxes/:id/network: a live sandbox's new egress policy (and egress on or off).
import { PodflareError, type SandboxInfo, type SetNetworkRequest } from "@podflare/protocol";
import { isOpen, parsePolicy, policyToWire } from "../network/policy.js";
import type { LiveSandbox } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";

/** Takes effect for the sandbox's next connection. */
export async function setSandboxNetwork(p: ManagerParts, sb: LiveSandbox, req: SetNetworkRequest): Promise<SandboxInfo> {
  if (!p.cfg.network) {
    throw new PodflareError("unavailable", "networking is turned off on this host (PODFLARE_NETWORK=off); sandboxes have loopback only");
  }
  const { egress, ...policy } = req;
  const parsed = parsePolicy(policy);
  const wire = isOpen(parsed) ? null : policyToWire(parsed);
  const applied = { ...sb.record.applied, egress: egress ?? sb.record.applied.egress };
  if (!applied.egress && wire) throw new PodflareError("bad_request", "a network policy needs egress; send egress: true with it, or no allow_out/deny_out");
  p.live.touch(sb);
  await p.runtime.setNetwork(sb.rt, { egress: applied.egress, policy: parsed });
  sb.record.applied = applied;
  sb.record.network = wire;
  p.store.setNetwork(sb.record.id, applied, wire);
  return p.live.describe(sb);
}
