// The jail module under test. Tests compile into tests/dist/, one level deeper than their
// sources, so a static relative import of the hostd sources does not resolve at run time:
// take the types from the sources and load the built module next to them.
import type * as JailModule from "../../packages/hostd/src/jail/index.js";

const built = new URL("../../../packages/hostd/dist/jail/index.js", import.meta.url);
const jail: typeof JailModule = await import(built.href);

export const {
  CgroupManager,
  configureGuestLinks,
  JAIL_DIR,
  JailError,
  PYTHON,
  detectCgroupVersion,
  jailServer,
  isAlive,
  launchSandbox,
  processStartTime,
  runInSandbox,
  startKernel,
} = jail;
export type CgroupManagerType = JailModule.CgroupManager;
export type SandboxInit = JailModule.SandboxInit;
export type SandboxSpec = JailModule.SandboxSpec;
export type RunResult = JailModule.RunResult;
export type CgroupLimits = JailModule.CgroupLimits;
