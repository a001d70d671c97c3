// The storage pool's own room. All sandboxes share the pool: when it, not one sandbox's
// `disk_mb`, is what is full, a write's ENOSPC is the host's problem, not the caller's, and a
// new sandbox would start unable to write a byte. This tells the two apart, refuses creates
// while the pool is full, and tells the operator (a WARNING, at most once a minute).
import { statfsSync } from "node:fs";
import { PodflareError } from "@podflare/protocol";

const MB = 1024 * 1024;
/** Below this much free room (or 2% of the pool, if more) the pool counts as full. */
const FULL_BELOW_BYTES = 256 * MB;
const WARN_EVERY_MS = 60_000;

export interface PoolRoomReading {
  freeBytes: number;
  totalBytes: number;
}

export class PoolRoom {
  private lastWarnAt = -Infinity;

  constructor(
    private readonly root: string,
    private readonly log: (msg: string) => void,
    private readonly read: (root: string) => PoolRoomReading = readRoom,
    private readonly now: () => number = Date.now,
  ) {}

  /** The pool's room when it is full, else undefined (also when it cannot be read). */
  full(): PoolRoomReading | undefined {
    let room: PoolRoomReading;
    try {
      room = this.read(this.root);
    } catch {
      return undefined;
    }
    if (room.freeBytes >= Math.max(FULL_BELOW_BYTES, room.totalBytes * 0.02)) return undefined;
    if (this.now() - this.lastWarnAt >= WARN_EVERY_MS) {
      this.lastWarnAt = this.now();
      this.log(`WARNING: the storage pool ${this.root} is full (${describe(room)}): sandboxes cannot write and creates, forks and resumes are refused with 507 no_space; close sandboxes, delete Spaces, or grow the pool (PODFLARE_POOL_SIZE_GB, docs/storage.md)`);
    }
    return room;
  }

  /** The error a create, fork or resume gets while the pool is full. */
  refuseNew(what: string): PodflareError | undefined {
    const room = this.full();
    if (!room) return undefined;
    return new PodflareError("no_space", `${what} refused: the host's storage pool is full (${describe(room)}); sandboxes here cannot write until its operator frees room or grows it (PODFLARE_POOL_SIZE_GB, docs/storage.md); try again later or on another host`);
  }

  /**
   * A sandbox's no_space, told as the host's when the pool is what is full; so is a failure
   * that is not a PodflareError (a storage helper's ENOSPC) while the pool is full.
   */
  explain(err: unknown): unknown {
    if (err instanceof PodflareError && err.code !== "no_space") return err;
    const room = this.full();
    if (!room) return err;
    return new PodflareError("no_space", `no space left: the host's storage pool is full (${describe(room)}), not this sandbox's disk_mb; its operator must free room or grow it (PODFLARE_POOL_SIZE_GB, docs/storage.md)`);
  }
}

function describe(room: PoolRoomReading): string {
  return `${Math.floor(room.freeBytes / MB)} MB free of ${Math.round(room.totalBytes / MB)} MB`;
}

function readRoom(root: string): PoolRoomReading {
  const s = statfsSync(root);
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}
