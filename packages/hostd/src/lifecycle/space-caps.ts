// Per-owner Space caps: how many Spaces a key may keep and how much disk they may take together.
// Pure: the tier's caps lowered to the host's, and the check that names what to do. Unit-tested beside.
import { PodflareError } from "@podflare/protocol";
import { tiers, type TierName } from "../auth/tiers.js";

export interface SpaceCaps {
  maxSpaces: number;
  storageBytes: number;
}

export interface HostSpaceCaps {
  maxSpaces?: number;
  storageMb?: number;
}

const MB = 1024 * 1024;

export function spaceCapsFor(tierName: TierName, host: HostSpaceCaps = {}): SpaceCaps {
  const tier = tiers[tierName];
  return {
    maxSpaces: Math.min(tier.maxSpaces, host.maxSpaces ?? Infinity),
    storageBytes: Math.min(tier.spaceStorageMb, host.storageMb ?? Infinity) * MB,
  };
}

/** One more Space: 429 space_limit when the owner already keeps (or is making) as many as allowed. */
export function checkSpaceCount(held: number, caps: SpaceCaps, tierName: TierName): void {
  if (held + 1 > caps.maxSpaces) {
    throw new PodflareError(
      "space_limit",
      `the ${tierName} tier keeps at most ${caps.maxSpaces} Spaces per key and you have ${held}; delete one (DELETE /v1/spaces/<space_id>) or resume one, then freeze again`,
      { "Retry-After": "1" },
    );
  }
}

/** A Space of `bytes`: 507 space_storage_limit when the owner's Spaces would take more than allowed. */
export function checkSpaceBytes(usedBytes: number, bytes: number, caps: SpaceCaps, tierName: TierName): void {
  if (usedBytes + bytes > caps.storageBytes) {
    const mb = (n: number) => Math.ceil(n / MB);
    throw new PodflareError(
      "space_storage_limit",
      `this Space would take ${mb(bytes)} MB and your Spaces already take ${mb(usedBytes)} MB of the ${tierName} tier's ${mb(caps.storageBytes)} MB; ` +
        `delete or resume some Spaces, or remove files from the sandbox, then freeze again`,
    );
  }
}
