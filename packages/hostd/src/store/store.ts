// The metadata store's one interface: every read and write of hostd's and the CLI's data goes
// through it, so feature code never sees SQL and a second backend (PostgreSQL) is a new
// implementation of these types, checked by the same suite (store-suite.ts). Operations that must
// be atomic (a cap checked and taken, a row consumed once) are single calls here, never raw
// transactions handed to callers.
import type { AppliedLimits, NetworkPolicy, SandboxState } from "@podflare/protocol";
import type { KeyRecord, SandboxRecord, SpaceRecord, StoredKey, UsageCounts, UsagePoint } from "./records.js";

export type { KeyRecord, SandboxRecord, SpaceRecord, StoredKey, UsageCounts, UsagePoint } from "./records.js";

/** A live key is named by its id or by the hash of its plain value. */
export interface KeyRef {
  id: string;
  hash: string;
}

export interface KeyTable {
  insert(k: StoredKey): void;
  get(id: string): KeyRecord | undefined;
  /** The key (live or revoked) whose plain value hashes to `hash`. */
  byHash(hash: string): KeyRecord | undefined;
  list(): KeyRecord[];
  setLastUsed(id: string, at: number): void;
  /** Revokes the live key matching `ref`; true when one was revoked. */
  revoke(ref: KeyRef, at: number): boolean;
  /** Like revoke, but refuses ("last") when no other live key would remain; checked and done atomically. */
  revokeUnlessLast(ref: KeyRef, at: number): "revoked" | "not_found" | "last";
  /** Whether any live key exists: cheap, asked per request while auth waits for the first key. */
  hasLive(): boolean;
  /** The ids of every revoked key. */
  revokedIds(): string[];
  countLive(): number;
}

export interface UsageTable {
  /** Adds to the owner's counters (creating them at zero), atomically. */
  add(owner: string, delta: Partial<UsageCounts>): void;
  get(owner: string): UsageCounts | undefined;
  /** Every owner with counters, in order (metrics report each). */
  owners(): string[];
}

/** Usage totals over time: snapshots taken periodically, kept for a bounded time. */
export interface UsageHistoryTable {
  /** Adds the points (one per owner at one time; a repeat of owner and time replaces it), atomically. */
  append(points: UsagePoint[]): void;
  /** Points taken at or after `since` (ms), oldest first: the owner's, or everyone's. */
  since(since: number, owner?: string): UsagePoint[];
  /** Drops points taken before `before` (ms); how many went. */
  prune(before: number): number;
}

/** Sandbox addresses as IPv4 integers, one per key, unique across keys. */
export interface AddressTable {
  get(key: string): number | null;
  /** The key's address, else the lowest free one in [first, last] taken for it, atomically; null when none is free. */
  allocate(key: string, first: number, last: number): number | null;
  release(key: string): void;
  entries(): Map<string, number>;
  /** Drops addresses outside [first, last]; how many went. */
  dropOutside(first: number, last: number): number;
}

/** Small settings the network keeps across restarts (the chosen CIDR). */
export interface NetMetaTable {
  get(k: string): string | null;
  set(k: string, v: string): void;
}

export interface SandboxTable {
  insert(r: SandboxRecord): void;
  get(id: string): SandboxRecord | undefined;
  /** Every record, or the owner's, oldest first. */
  list(owner?: string): SandboxRecord[];
  /** Removes the row; its children's rows take its parent and its fork point (`forkedFrom`),
   * so a grandchild can still be merged into its grandparent. */
  delete(id: string): void;
  touch(id: string, at: number): void;
  /** The state, and whether a pause is a call's (SandboxRecord.pausedByCall). */
  setState(id: string, state: SandboxState, pausedByCall?: boolean): void;
  setApplied(id: string, applied: AppliedLimits): void;
  setNetwork(id: string, applied: AppliedLimits, network: NetworkPolicy | null): void;
  setInit(id: string, pid: number, startTime: string): void;
  /** merge_into, atomically: `parentId` takes the winner's runtime, the winner's row goes, and
   * the winner's children become the parent's. */
  merge(parentId: string, winner: SandboxRecord): void;
}

export interface SpaceTable {
  insert(s: SpaceRecord): void;
  get(id: string): SpaceRecord | undefined;
  /** Every Space, or the owner's, oldest first. */
  list(owner?: string): SpaceRecord[];
  /** Removes the Space; true when this call removed it (so two resumes cannot both consume it). */
  delete(id: string): boolean;
}

export interface Store {
  readonly keys: KeyTable;
  readonly usage: UsageTable;
  readonly addresses: AddressTable;
  readonly netMeta: NetMetaTable;
  readonly sandboxes: SandboxTable;
  readonly spaces: SpaceTable;
  readonly usageHistory: UsageHistoryTable;
  close(): void;
}
