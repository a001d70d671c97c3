// How one answer, read from a leg (leg.ts), reaches the caller: byte for byte when its
// hop-by-hop headers hold for the caller's connection too (heads.ts, passesVerbatim), else under
// a head of the front's own, re-chunked where the caller needs it; with backpressure back to
// the leg's connection either way.
import type net from "node:net";
import type { Duplex } from "node:stream";
import type { SendHooks } from "./create-flow.js";
import { writeChunk, type Exchange } from "./exchange.js";
import { answerHead, bodyless, passesVerbatim } from "./heads.js";
import type { Leg, LegUser } from "./leg.js";

/** What the answer needs of the caller's connection (client-connection.ts). */
export interface Caller {
  readonly socket: net.Socket;
  readonly idleTimeoutMs: number;
  /** Bytes went to the caller: the connection is not idle. */
  touched(): void;
  /** The answer is whole (close: the caller's connection closes after it). */
  answered(ex: Exchange, close: boolean): void;
}

export function answerToCaller(caller: Caller, ex: Exchange, leg: Leg, target: Duplex, hooks: SendHooks): LegUser {
  const out = caller.socket;
  let chunked = false;
  let closeAfter = false;
  let dropped = false;
  let passing = false;
  const written = (ok: boolean): void => {
    caller.touched();
    if (!ok && !target.isPaused()) {
      target.pause();
      out.once("drain", () => target.resume());
    }
  };
  const callerPlain = ex.head.keepAlive && ex.head.versionMajor === 1 && ex.head.versionMinor === 1 && ex.head.method !== "HEAD";
  return {
    output: out,
    head: (h, bytesMayPass) => {
      if (hooks.beforeAnswer && !hooks.beforeAnswer(h.status)) {
        dropped = true;
        leg.user = undefined;
        return "skip-body";
      }
      ex.answered = true;
      ex.status = h.status;
      // An answer that begins before the caller sent its whole body (a 401 or 413 given before
      // the body was read): the caller's connection closes after it (client-connection.ts,
      // finished), so the head says so, or a keep-alive caller sends its next request into a
      // connection being closed and gets a reset instead of an answer.
      const early = !ex.requestDone;
      // The common case: the origin's bytes go on as read, no head of the front's own.
      if (!early && bytesMayPass && callerPlain && passesVerbatim(h, caller.idleTimeoutMs)) {
        passing = true;
        closeAfter = !h.keepAlive;
        return "pass-bytes";
      }
      const framing = answerHead(h, { noBody: bodyless(h.status, ex.head.method), callerHttp11: ex.head.versionMinor >= 1, callerKeepAlive: ex.head.keepAlive && !early });
      chunked = framing.chunk;
      closeAfter = framing.close;
      out.write(framing.head, "latin1");
      return ex.head.method === "HEAD" ? "skip-body" : undefined;
    },
    body: (chunk) => {
      if (passing) return;
      written(chunked ? writeChunk(out, chunk) : out.write(chunk));
    },
    raw: (bytes) => written(out.write(bytes)),
    end: () => {
      if (!dropped && chunked) out.write("0\r\n\r\n");
    },
    complete: (keepAlive) => {
      if (dropped) return;
      hooks.done(keepAlive && ex.requestDone);
      caller.answered(ex, closeAfter);
    },
    failed: (reason) => {
      if (dropped) return;
      if (ex.answered) out.destroy();
      else hooks.failedBeforeAnswer(reason);
    },
  };
}
