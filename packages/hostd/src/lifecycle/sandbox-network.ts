// PUT /v1/sandboxes/:id/network: a live sandbox's new egress policy (and egress on or off).
import { PodflareError, type SandboxInfo, type SetNetworkRequest } from "@podflare/protocol";
import { isOpen, parsePolicy, policyToWire } from "../network/policy.js";
import type { LiveSandbox } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";
import { SerialQueue } from "./serial-queue.js";

/**
 * One change per sandbox at a time, in arrival order: each reads the record the one before it
 * wrote, so the record, the store and the router agree whatever the clients send at once.
 * Not the sandbox's exec queue: a policy change never waits for a long exec.
 */
const changes = new WeakMap<LiveSandbox, SerialQueue>();

/** Takes effect for the sandbox's next connection. */
export function setSandboxNetwork(p: ManagerParts, sb: LiveSandbox, req: SetNetworkRequest): Promise<SandboxInfo> {
  if (!p.cfg.network) {
    throw new PodflareError("unavailable", "networking is turned off on this host (PODFLARE_NETWORK=off); sandboxes have loopback only");
  }
  const { egress, ...policy } = req;
  const parsed = parsePolicy(policy);
  let queue = changes.get(sb);
  if (!queue) changes.set(sb, (queue = new SerialQueue()));
  return queue.run(async () => {
    // Closed while the change waited: nothing to change (and no link to make for a dead init).
    p.live.get(sb.record.owner, sb.record.id);
    const wire = isOpen(parsed) ? null : policyToWire(parsed);
    const applied = { ...sb.record.applied, egress: egress ?? sb.record.applied.egress };
    if (!applied.egress && wire) throw new PodflareError("bad_request", "a network policy needs egress; send egress: true with it, or no allow_out/deny_out");
    p.live.touch(sb);
    // On failure the network layer has rolled back to the state the record still describes;
    // one that failed because the sandbox was closed meanwhile answers as for a closed one.
    await p.runtime.setNetwork(sb.rt, { egress: applied.egress, policy: parsed }).catch((err: unknown) => {
      p.live.get(sb.record.owner, sb.record.id);
      throw err;
    });
    sb.record.applied = applied;
    sb.record.network = wire;
    p.store.setNetwork(sb.record.id, applied, wire);
    return p.live.describe(sb);
  });
}
