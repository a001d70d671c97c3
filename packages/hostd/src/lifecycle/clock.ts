// Time as a dependency: the lifecycle asks a Clock for the time and for periodic ticks, so unit
// tests drive it with a fake one (no real timers, no sleeps).
export interface Clock {
  now(): number;
  /** Calls `fn` every `intervalMs` until stopped; must not keep the process alive. */
  every(intervalMs: number, fn: () => void): { stop(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(intervalMs, fn) {
    const timer = setInterval(fn, intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  },
};
