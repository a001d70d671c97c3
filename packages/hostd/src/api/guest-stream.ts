// A guest stream (a process's output, a directory watch) passed on as NDJSON, one event a
// line. The guest connection is paused while the client's response is full, so a slow
// reader costs a bounded amount of hostd memory (the guest holds the rest in its ring).
import type { ServerResponse } from "node:http";
import { PodflareError, type Frame, type GuestFrame, type HostFrame } from "@podflare/protocol";
import { guestError } from "../runtime/files.js";
import type { GuestConnection } from "../runtime/guest-connection.js";

type Request = HostFrame extends infer F ? (F extends { id: number } ? Omit<F, "id"> : never) : never;

/**
 * `toEvents` turns a guest frame into NDJSON events (without seq/ts) and says whether the
 * stream ended. The answer's headers go out with the first event, so an `error` frame before
 * it is thrown as a PodflareError for the route to answer.
 */
export function pipeGuestStream(
  res: ServerResponse,
  conn: GuestConnection,
  frame: Request,
  toEvents: (f: Frame<GuestFrame>) => { events: object[]; end: boolean },
  onOpen?: (conn: GuestConnection) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seq = 0;
    let started = false;
    let ended = false;
    let waiting = false;
    const finish = (err?: PodflareError) => {
      if (ended) return;
      ended = true;
      conn.close();
      if (!started) {
        reject(err ?? new PodflareError("runtime_error", "the sandbox's guest kernel went away before answering; try again"));
        return;
      }
      if (!res.destroyed) res.end();
      resolve();
    };
    res.on("close", () => {
      if (!ended) {
        ended = true;
        conn.close();
        resolve();
      }
    });
    const write = (event: object) => {
      if (!started) {
        res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
        started = true;
        onOpen?.(conn);
      }
      if (res.destroyed) return;
      // Frames already read keep coming after pause(): one drain listener, not one per write.
      if (!res.write(JSON.stringify({ ...event, seq: seq++, ts: Date.now() }) + "\n") && !waiting) {
        waiting = true;
        conn.pause();
        res.once("drain", () => {
          waiting = false;
          conn.resume();
        });
      }
    };
    const id = conn.open((f) => {
      if (ended) return;
      if (f.header.t === "error") {
        if (!started) return finish(guestError(f.header));
        return finish();
      }
      const { events, end } = toEvents(f);
      for (const e of events) write(e);
      if (end) finish();
    });
    conn.onClose(() => finish());
    try {
      conn.send({ ...frame, id } as HostFrame);
    } catch {
      finish();
    }
  });
}
