// What the ns runtime is built from, and the part of it that fork and spawn (fork-spawn.ts)
// work through: declared here so fork-spawn.ts need not import the runtime that calls it.
import type { CgroupManager } from "../../jail/index.js";
import type { FamilyLimits } from "../../jail/kernel-counters.js";
import type { NetworkService } from "../../network/network-service.js";
import type { StoragePool } from "../../storage/index.js";
import type { Families } from "./families.js";
import type { OwnerDisk } from "./owner-disk.js";
import type { SandboxHost } from "./ns-sandbox.js";

export interface NsRuntimeOptions {
  stateDir: string;
  storage: StoragePool;
  cgroups: CgroupManager;
  uidBase: number;
  uidCount: number;
  /** A family's ceilings on per-user kernel counters for its number of members (the zygote's family gets none). */
  familyLimits: (members: number) => FamilyLimits;
  /** Percent of the storage pool one owner's roots may hold together (owner-disk.ts; default 100: no limit). */
  ownerDiskPercent?: number;
  /** Sandbox networking; null: every sandbox has loopback only. */
  network: NetworkService | null;
  log: (msg: string) => void;
}

/** What fork and spawn need of the runtime (NsRuntime is one). */
export interface ForkHost extends SandboxHost {
  readonly opts: NsRuntimeOptions;
  readonly families: Families;
  readonly guestDir: string;
  readonly ownerDisk: OwnerDisk;
  destroyById(id: string): Promise<void>;
  leave(familyId: string, id: string): Promise<void>;
}
