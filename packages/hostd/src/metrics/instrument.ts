// Times the sandbox operations where they are called from, wrapping the instances hostd.ts made,
// so the lifecycle code stays free of metrics (the reaper's freezes are counted too).
import type { HostdMetrics, OpName } from "./hostd-metrics.js";

type AsyncMethodOf<T> = { [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];

export function timeMethod<T extends object, K extends AsyncMethodOf<T>>(target: T, method: K, op: OpName, metrics: HostdMetrics): void {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  const wrapped = function (this: T, ...args: unknown[]) {
    return metrics.timeOp(op, () => original.apply(this, args));
  };
  Object.defineProperty(target, method, { value: wrapped, configurable: true, writable: true });
}
