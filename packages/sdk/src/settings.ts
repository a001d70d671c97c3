// Changes to a running sandbox's settings: idle timeout and network policy. Each returns the
// limits the server says it applied, for the Sandbox to keep in `applied`.

import { sandboxPath, type SandboxRef } from "./sandbox-ref.js";
import { fromApplied, fromNetworkInfo, toNetworkPolicy, type AppliedLimits, type NetworkInfo, type NetworkPolicy } from "./types.js";
import type * as wire from "./wire.js";

/** Sets the idle timeout; what the server says it applied (all limits, or the timeout alone). */
export async function changeTimeout(ref: SandboxRef, idleTimeoutS: number): Promise<{ applied?: AppliedLimits; idleTimeoutS?: number }> {
  const res = await ref.http.json<{ applied?: wire.AppliedLimits; idle_timeout_s?: number }>("POST", sandboxPath(ref, "/timeout"), {
    json: { idle_timeout_s: idleTimeoutS },
  });
  if (res?.applied) return { applied: fromApplied(res.applied) };
  return typeof res?.idle_timeout_s === "number" ? { idleTimeoutS: res.idle_timeout_s } : {};
}

/** Sets the egress policy (and, with `egress`, the network on or off). */
export async function changeNetwork(
  ref: SandboxRef,
  opts: NetworkPolicy & { egress?: boolean },
): Promise<{ applied: AppliedLimits | undefined; network: NetworkInfo | null }> {
  const { egress, ...policy } = opts;
  const body: wire.SetNetworkRequest = { ...toNetworkPolicy(policy), ...(egress === undefined ? {} : { egress }) };
  const res = await ref.http.json<wire.SandboxInfo>("PUT", sandboxPath(ref, "/network"), { json: body });
  return { applied: res?.applied ? fromApplied(res.applied) : undefined, network: fromNetworkInfo(res?.network) };
}
