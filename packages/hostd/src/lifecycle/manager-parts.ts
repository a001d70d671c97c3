// What SandboxManager's helper modules share: the config, the sandbox table, the runtime, the
// live sandboxes and the optional usage store.
import type { HostdConfig } from "../config.js";
import type { Runtime } from "../runtime/types.js";
import type { SandboxTable } from "../store/store.js";
import type { Clock } from "./clock.js";
import type { LiveSandboxes } from "./live-sandboxes.js";
import type { UsageStore } from "./usage.js";

export interface ManagerParts {
  cfg: HostdConfig;
  store: SandboxTable;
  runtime: Runtime;
  live: LiveSandboxes;
  clock: Clock;
  log: (msg: string) => void;
  usage?: UsageStore;
}
