// hostd's start: re-adopts the sandboxes that kept running while it was down and removes what
// a crash left behind (records without a runtime, then the runtime's leftovers).
import type { RuntimeSandbox } from "../runtime/types.js";
import type { ManagerParts } from "./manager-parts.js";
import { handleOf } from "./runtime-handle.js";
import { dropSpaceState } from "../runtime/space-ops.js";

export async function readoptSandboxes(p: ManagerParts): Promise<{ adopted: string[]; removed: string[] }> {
  const adopted: string[] = [];
  for (const record of p.store.list()) {
    let rt: RuntimeSandbox | null = null;
    if (record.initPid !== null && record.initStartTime !== null) {
      try {
        rt = await p.runtime.adopt(p.live.specOf(record), handleOf(record), { paused: record.state === "paused" });
      } catch (err) {
        p.log(`could not re-adopt ${record.id}: ${(err as Error).message}`);
      }
    }
    if (rt) {
      p.live.track(record, rt);
      adopted.push(record.id);
      // A freeze a crash cut short left its saved REPL state in the sandbox (as big as the
      // REPL), counted against its disk_mb and its key's share (outside tester tl); a failed
      // freeze removes it, so this one is removed now. A paused sandbox's guest cannot answer.
      if (record.state !== "paused") void dropSpaceState(rt);
    } else {
      p.store.delete(record.id);
    }
  }
  const keys = new Set([...p.live.values()].map((s) => s.record.runtimeKey));
  const removed = await p.runtime.reconcile(keys);
  return { adopted, removed };
}
