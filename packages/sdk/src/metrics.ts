// What a sandbox uses now (Sandbox.metrics()): the SDK's camelCase view of the wire shape.
import type * as wire from "./wire.js";
import type { SandboxState } from "./wire.js";

export interface SandboxMetrics {
  id: string;
  state: SandboxState;
  /** CPU time used since the sandbox started, in microseconds. */
  cpuUsec: number;
  /** Memory charged to the sandbox now (page cache included), and its limit. */
  memoryBytes: number;
  memoryLimitBytes: number;
  /** Bytes its root filesystem takes, and its cap. */
  diskBytes: number;
  diskLimitBytes: number;
  /** Tasks (threads included) counted against its pids limit. */
  pids: number;
  /** When hostd read these, as a Date. */
  at: Date;
}

export function fromSandboxMetrics(m: wire.SandboxMetrics): SandboxMetrics {
  return {
    id: m.id,
    state: m.state,
    cpuUsec: m.cpu_usec,
    memoryBytes: m.memory_bytes,
    memoryLimitBytes: m.memory_limit_bytes,
    diskBytes: m.disk_bytes,
    diskLimitBytes: m.disk_limit_bytes,
    pids: m.pids,
    at: new Date(m.ts),
  };
}
