// Names the race behind a failed call on one sandbox: deleted, or its REPL restarted, while
// the call ran.
import { PodflareError } from "@podflare/protocol";
import { SB, type Route } from "./route.js";

/** What namingRaces needs of the sandbox manager. */
export interface RestartCounts {
  /** The sandbox's REPL restart count; null once it is gone. */
  restartsOf(owner: string, id: string): number | null;
}

const SANDBOX_PATH = new RegExp(`^${SB}`).source;
const SANDBOX_ITSELF = new RegExp(`^${SB}$`).source;

/**
 * A call on one sandbox that fails on the server's side (its guest kernel or socket went away)
 * because the sandbox was deleted meanwhile answers 404 `sandbox_not_found`, and because its
 * REPL was restarted meanwhile 409 `conflict`: what happened, not a 500 with the runtime's words.
 * The DELETE of the sandbox is left alone: it is the call that took the sandbox away, so its own
 * failure is the answer.
 */
export function namingRaces(sandboxes: RestartCounts, routes: Route[]): Route[] {
  return routes.map((r) => {
    if (!r.pattern.source.startsWith(SANDBOX_PATH)) return r;
    if (r.method === "DELETE" && r.pattern.source === SANDBOX_ITSELF) return r;
    return {
      ...r,
      handle: async (ctx) => {
        const id = ctx.params[0]!;
        const restarts = sandboxes.restartsOf(ctx.owner, id);
        try {
          await r.handle(ctx);
        } catch (err) {
          if (restarts === null || (err instanceof PodflareError && err.status < 500)) throw err;
          const now = sandboxes.restartsOf(ctx.owner, id);
          if (now === null) throw new PodflareError("sandbox_not_found", `sandbox ${id} was deleted while this call ran`);
          if (now !== restarts) {
            throw new PodflareError("conflict", `the REPL of sandbox ${id} was restarted (restart_repl) while this call ran, and what the call used went with it; try again`);
          }
          throw err;
        }
      },
    };
  });
}
