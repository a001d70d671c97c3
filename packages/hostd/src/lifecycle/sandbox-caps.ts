// Concurrency caps a create or a fork reserves against: the tier's per owner, the host's in all
// (pure; the slots: reservations.ts).
import { tiers, type TierName } from "../auth/tiers.js";
import type { Caps } from "./reservations.js";

export function createCaps(tierName: TierName, hostMax: number): Caps {
  const max = tiers[tierName].concurrentSandboxes;
  return {
    owner: { max, refuse: () => `the ${tierName} tier runs at most ${max} sandboxes at once; close one and retry` },
    host: { max: hostMax, refuse: () => `this host runs at most ${hostMax} sandboxes at once; close one and retry` },
  };
}

/** All n children's slots at once: a fork is all or nothing. */
export function forkCaps(tierName: TierName, n: number, hostMax: number): Caps {
  return {
    owner: {
      max: tiers[tierName].concurrentSandboxes,
      refuse: (running) => `fork of ${n} would exceed the ${tierName} tier's ${tiers[tierName].concurrentSandboxes} sandboxes at once (you run ${running}); close some or fork fewer`,
    },
    host: { max: hostMax, refuse: () => `fork of ${n} would exceed this host's ${hostMax} sandboxes; close some and retry` },
  };
}
