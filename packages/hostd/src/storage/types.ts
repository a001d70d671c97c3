// The storage pool contract. Both drivers implement it with the same behaviour; the rest
// of hostd sees only this.

export type StorageDriver = "btrfs" | "dir";

export interface StorageOptions {
  /** Where hostd keeps its state; every path storage touches is under it (or under poolPath). */
  stateDir: string;
  /** `auto` (default): btrfs, falling back to dir (with a log line saying why) when btrfs cannot be set up. */
  driver?: StorageDriver | "auto";
  /** Size of the loop file `<stateDir>/pool.img` when it is created (all reserved on the host disk). Default: half the free space, 8..512. */
  poolSizeGb?: number;
  /** An existing btrfs mount to use instead of the loop file. */
  poolPath?: string;
  log?: (msg: string) => void;
}

/**
 * One tenant's share of the pool: every sandbox root of one owner counts against one limit
 * (btrfs: a level-1 qgroup, 1/id, whose exclusive limit is `bytes`).
 */
export interface DiskGroup {
  /** 1 .. 2^48-1. */
  id: number;
  bytes: number;
}

export interface DiskGroupUsage {
  usedBytes: number;
  limitBytes: number | null;
}

export interface TeardownOptions {
  /** Unmount even if sandbox roots still exist (they stay in the pool image). */
  force?: boolean;
}

export interface StoragePool {
  readonly driver: StorageDriver;
  readonly stateDir: string;
  /** The directory holding `templates/` and `sandboxes/`. */
  readonly root: string;

  /** Set the pool up (create, attach, mount); idempotent, reuses what already exists. */
  init(): Promise<void>;

  /** The template's root filesystem directory (which may not exist yet). */
  templatePath(name: string): string;
  /** The template's manifest, `template.json`-style, next to its root filesystem. */
  templateManifestPath(name: string): string;
  /** A complete template (root filesystem and manifest) exists. */
  hasTemplate(name: string): Promise<boolean>;
  /** The same, answered without waiting (for a create's hot path). */
  hasTemplateNow(name: string): boolean;
  /** Names of the templates present (complete ones only). */
  listTemplateNames(): Promise<string[]>;
  /** A fresh empty staging root filesystem for building `name`; not visible as a template until committed. */
  beginTemplate(name: string): Promise<string>;
  /** Atomically put a staged root filesystem and its manifest in place of `name`. */
  commitTemplate(name: string, stagingPath: string, manifestJson: string): Promise<void>;
  /** Throw away a staging root filesystem. */
  abortTemplate(stagingPath: string): Promise<void>;
  deleteTemplate(name: string): Promise<void>;

  /** A writable copy (btrfs: snapshot) of the template as the root of a new sandbox. */
  createSandboxRoot(template: string, sandboxId: string): Promise<string>;
  /** Several writable roots of one template at once. */
  createSandboxRoots(template: string, sandboxIds: string[]): Promise<string[]>;
  /** For fork: a copy of a sandbox root (freeze the source first for a consistent copy). */
  snapshotSandboxRoot(srcId: string, dstId: string): Promise<string>;
  /** For fork(n): several copies of one sandbox root at once (btrfs: one helper call for all). */
  snapshotSandboxRoots(srcId: string, dstIds: string[]): Promise<string[]>;
  /** Remove a sandbox root; a root that does not exist is fine. Retries briefly while busy. */
  deleteSandboxRoot(id: string): Promise<void>;
  /** Ids of all sandbox roots present, for reconciling after a crash. */
  listSandboxRoots(): Promise<string[]>;
  sandboxRootPath(id: string): string;
  /**
   * Cap a sandbox root's size, and count it in `group` when given. Returns false when the
   * driver cannot enforce caps (dir).
   */
  setDiskLimitMb(id: string, mb: number | null, group?: DiskGroup): Promise<boolean>;
  /** The same cap on several roots at once (fork, the warm pool's spawn): one helper call for all. */
  setDiskLimitsMb(ids: string[], mb: number | null, group?: DiskGroup): Promise<boolean>;
  /** Roots made before their owner was known (the warm pool's) join its group; false without caps. */
  joinDiskGroup(ids: string[], group: DiskGroup): Promise<boolean>;
  /** What a group holds now (read without waiting), or undefined (no caps, no such group). */
  diskGroupUsage(group: DiskGroup): DiskGroupUsage | undefined;
  /** Bytes a sandbox root takes (btrfs: qgroup referenced bytes, which the cap applies to). */
  diskUsageBytes(id: string): Promise<number>;

  /** Spaces: a sandbox root kept on disk after its sandbox is gone (freeze), resumed once. */
  spaceRootPath(spaceId: string): string;
  saveSpaceRoot(sandboxId: string, spaceId: string): Promise<string>;
  createSandboxRootFromSpace(spaceId: string, sandboxId: string): Promise<string>;
  deleteSpaceRoot(spaceId: string): Promise<void>;
  listSpaceRoots(): Promise<string[]>;
  /**
   * A Space being made or removed (its root and its row change apart): a root without a row
   * that is marked so is a crash's leftover; one that is not lost its row (an older metadata
   * store), and is set aside, never deleted.
   */
  markSpacePending(spaceId: string, pending: boolean): Promise<void>;
  pendingSpaces(): Promise<string[]>;
  /** Moves a Space root to `<pool>/spaces-lost/<id>`; returns where. */
  setAsideSpaceRoot(spaceId: string): Promise<string>;

  /** Unmount the pool and detach its loop device. Refuses while sandbox roots exist unless `force`. */
  teardown(opts?: TeardownOptions): Promise<void>;
}
