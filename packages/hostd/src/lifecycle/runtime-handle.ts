// The runtime handle (init and fork-family pids with start times) kept in a sandbox record, so a
// restarted hostd finds the sandbox's processes again.
import type { RuntimeHandle, RuntimeSandbox } from "../runtime/types.js";
import type { SandboxRecord } from "../store/store.js";

export function handleOf(r: SandboxRecord): RuntimeHandle {
  return {
    initPid: r.initPid!,
    initStartTime: r.initStartTime!,
    ...(r.familyId && r.familyPid !== null && r.familyStartTime !== null
      ? { family: { id: r.familyId, pid: r.familyPid, startTime: r.familyStartTime } }
      : {}),
    ...(r.outerFamily ? { outerFamily: r.outerFamily } : {}),
  };
}

export function setHandle(r: SandboxRecord, rt: RuntimeSandbox): void {
  r.initPid = rt.handle.initPid;
  r.initStartTime = rt.handle.initStartTime;
  r.familyId = rt.handle.family?.id ?? null;
  r.familyPid = rt.handle.family?.pid ?? null;
  r.familyStartTime = rt.handle.family?.startTime ?? null;
  r.outerFamily = rt.handle.outerFamily ?? null;
}
