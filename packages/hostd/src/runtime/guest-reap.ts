// Asks the guest kernel to wait for its dead children (after kill_processes): a fork loop run
// in the REPL leaves them as zombies of the kernel, holding pids against the sandbox's limit.
import type { GuestFrame } from "@podflare/protocol";
import type { GuestConnection } from "./guest-connection.js";

/** Resolves with how many zombies the kernel reaped. */
export function reapZombies(conn: GuestConnection, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`the guest kernel did not reap within ${timeoutMs} ms`)), timeoutMs);
    const stopWatching = conn.onClose(() => done(new Error("the guest kernel went away")));
    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      if (h.t === "reaped") done(undefined, h.count);
      else if (h.t === "error") done(new Error(h.message));
    });
    function done(err?: Error, count = 0): void {
      clearTimeout(timer);
      stopWatching();
      conn.release(id);
      if (err) reject(err);
      else resolve(count);
    }
    conn.send({ t: "reap", id });
  });
}
