export { startHostd, type Hostd, type StartOptions } from "./hostd.js";
export { cgroupParentFor, isLoopback, loadConfig, parseAddr, type HostdConfig } from "./config.js";
export { hostProblems } from "./host-check.js";
export { openStore, type Store } from "./store/index.js";
export { KeyStore, keyNameProblem, shownKeyName, type KeyRecord } from "./auth/keys.js";
export { isTierName, tierNames, tiers, type TierName } from "./auth/tiers.js";
export { lastKeyGuard, revokeKey, shownKeyRef, type LastKeyGuard } from "./auth/last-key.js";
export { lockStateDir, stateDirOwner, StateDirBusyError, type StateDirOwner } from "./state-dir-lock.js";
export { jsonLogger, type Logger, type LogLevel, type LogFields } from "./log.js";
