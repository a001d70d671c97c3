export { startHostd, type Hostd, type StartOptions } from "./hostd.js";
export { cgroupParentFor, loadConfig, parseAddr, type HostdConfig } from "./config.js";
export { hostProblems } from "./host-check.js";
