// Reading an NDJSON stream (process output, a directory watch) event by event, waiting for
// the event itself rather than for time.
import { hostdUrl } from "./api.js";

export interface NdjsonStream<E> {
  events: E[];
  status: number;
  /** Resolves with the first event (from the start) that matches; fails at the deadline or EOF. */
  waitFor(match: (e: E) => boolean, what: string, timeoutMs?: number): Promise<E>;
  /** Resolves once the stream ended (all events read). */
  ended: Promise<void>;
  close(): void;
}

export async function openNdjson<E = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<NdjsonStream<E>> {
  const abort = new AbortController();
  const res = await fetch(hostdUrl() + path, { ...init, signal: abort.signal });
  const events: E[] = [];
  const waker: { wake: (() => void) | null } = { wake: null };
  let done = false;
  let failure: unknown;
  const ended = (async () => {
    if (res.status !== 200 || !res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        const { value, done: eof } = await reader.read();
        if (eof) break;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) !== -1) {
          events.push(JSON.parse(buf.slice(0, nl)) as E);
          buf = buf.slice(nl + 1);
        }
        waker.wake?.();
      }
    } catch (err) {
      failure = err;
    } finally {
      done = true;
      waker.wake?.();
    }
  })();
  return {
    events,
    status: res.status,
    ended,
    close: () => abort.abort(),
    async waitFor(match, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(match);
        if (hit) return hit;
        if (done) throw new Error(`stream ended without ${what}${failure ? ` (${String(failure)})` : ""}: ${JSON.stringify(events).slice(-1500)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(events).slice(-1500)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waker.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        waker.wake = null;
      }
    },
  };
}
