// The jail: the small privileged layer that turns a root filesystem into an isolated sandbox
// (user/pid/mount/net/uts/ipc/cgroup namespaces, cgroups, seccomp). See docs/security.md.

export {
  CgroupManager,
  detectCgroupVersion,
  type CgroupLimits,
  type CgroupManagerOptions,
  type CgroupVersion,
} from "./cgroups.js";
export {
  JAIL_DIR,
  JailError,
  PYTHON,
  isAlive,
  launchSandbox,
  processStartTime,
  runInSandbox,
  startKernel,
  type EnterConfig,
  type FamilyRef,
  type HelperOptions,
  type ProcessSpec,
  type RunResult,
  type SandboxInit,
  type SandboxRef,
  type SandboxSpec,
} from "./launcher.js";
export { forkKernel, type ForkSpec, type ForkedChild } from "./fork.js";
export { configureGuestLinks, type GuestLink } from "./netcfg.js";
export { JailServer, jailServer } from "./jail-server.js";
export { dynmodsMountPoint, favorDynamicMods, releaseDynamicMods } from "./cgroup-dynmods.js";
export { defaultCeiling, hostTaskLimit, type SandboxesCeiling } from "./ceiling.js";
export { shieldFromOom } from "./oom.js";
