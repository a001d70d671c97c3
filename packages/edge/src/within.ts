// A region asked as one of several (a merged list, GET /v1/regions) answers in time or counts
// as missing: one hung region (stopped, not dead) must not hold the whole answer.

/** How long one region of a fan-out may take. */
export const FANOUT_DEADLINE_MS = 10_000;

/** `work`'s value, or undefined once `ms` passed (what comes later is dropped). */
export function within<T>(work: Promise<T | undefined>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([work.finally(() => clearTimeout(timer)), deadline]);
}
