// Each tenant's share of the storage pool. A sandbox's disk_mb caps what it alone writes; the
// tier lets a key run many sandboxes, so together they could fill the pool every tenant shares
// (an outside tester filled an 8 GB pool from one key: every other tenant's writes failed). All
// roots of one owner (its sandboxes, fork children, resumed Spaces) therefore count against one
// limit, PODFLARE_OWNER_DISK_PERCENT of the pool (btrfs: a level-1 qgroup per owner). The local
// caller (no keys) is the machine's owner and has none.
import crypto from "node:crypto";
import { statfsSync } from "node:fs";
import { PodflareError } from "@podflare/protocol";
import type { DiskGroup, StoragePool } from "../../storage/index.js";

const MB = 1024 * 1024;
/** A group this close to its limit counts as full (its next write of any size fails). */
const FULL_WITHIN_BYTES = 16 * MB;

/** The 48-bit id of an owner's group (a hash: no table, the same at every start). */
export function diskGroupId(owner: string): number {
  const id = crypto.createHash("sha256").update(owner).digest().readUIntBE(0, 6);
  return id === 0 ? 1 : id;
}

export class OwnerDisk {
  private readonly bytes: number;

  constructor(
    private readonly storage: StoragePool,
    readonly percent: number,
    poolBytes = poolSizeBytes(storage.root),
  ) {
    this.bytes = Math.floor((poolBytes * percent) / 100);
  }

  /** The owner's group; none for the local caller (owner undefined) or a share of the whole pool. */
  groupOf(owner: string | undefined): DiskGroup | undefined {
    if (owner === undefined || this.percent >= 100 || this.bytes <= 0) return undefined;
    return { id: diskGroupId(owner), bytes: this.bytes };
  }

  /** The owner's usage when its group is full, else undefined. */
  full(owner: string | undefined): { usedBytes: number; limitBytes: number } | undefined {
    const group = this.groupOf(owner);
    const usage = group && this.storage.diskGroupUsage(group);
    if (!usage || usage.limitBytes === null || usage.usedBytes + FULL_WITHIN_BYTES < usage.limitBytes) return undefined;
    return { usedBytes: usage.usedBytes, limitBytes: usage.limitBytes };
  }

  /** The error a create, fork or resume of this owner gets while its share is used up. */
  refuseNew(what: string, owner: string | undefined): PodflareError | undefined {
    const full = this.full(owner);
    if (!full) return undefined;
    return new PodflareError("no_space", `${what} refused: ${this.describe(full)}; a new sandbox could not write. Close sandboxes of this key or delete files in them, then try again`);
  }

  /** A sandbox's no_space, told as its owner's share when that is what is used up. */
  explain(err: unknown, owner: string | undefined): unknown {
    if (!(err instanceof PodflareError) || err.code !== "no_space") return err;
    const full = this.full(owner);
    if (!full) return err;
    return new PodflareError("no_space", `no space left: ${this.describe(full)}, not this sandbox's own disk_mb. Close sandboxes of this key or delete files in them`);
  }

  private describe(full: { usedBytes: number; limitBytes: number }): string {
    return `this key's sandboxes together hold their share of the host's storage pool (${Math.floor(full.usedBytes / MB)} MB of ${Math.floor(full.limitBytes / MB)} MB: PODFLARE_OWNER_DISK_PERCENT=${this.percent} of the pool)`;
  }
}

function poolSizeBytes(root: string): number {
  try {
    const s = statfsSync(root);
    return s.blocks * s.bsize;
  } catch {
    return 0;
  }
}
