// The metadata store's face: the interface feature code uses and the opener of the SQLite one.
export type { AddressTable, KeyRecord, KeyRef, KeyTable, NetMetaTable, SandboxRecord, SandboxTable, SpaceRecord, SpaceTable, Store, StoredKey, UsageCounts, UsageHistoryTable, UsagePoint, UsageTable } from "./store.js";
export { openStore } from "./sqlite/open.js";
