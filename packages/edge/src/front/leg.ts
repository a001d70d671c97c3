// One connection the front sends requests on (to an origin, or into the edge's own server),
// with the llhttp parser that reads its answers. The socket and parser live as long as the
// connection; each exchange sets `user` for the one answer it waits for.
import type { Duplex } from "node:stream";
import { HttpParser, type ParsedHead } from "./llhttp.js";

/**
 * What the user does with an answer's head: nothing special (undefined), "skip-body" (it has
 * no body whatever its headers say: HEAD), or "pass-bytes": every byte read for this answer
 * goes to the caller as read (raw()), once parsed, and head/body/end only keep count.
 */
export type HeadDecision = "skip-body" | "pass-bytes" | undefined;

export interface LegUser {
  /** Where the answer goes: corked while one read from the connection is parsed, so what that
   * read produces (head, chunks, the last chunk) leaves in one write. */
  output: Duplex;
  /**
   * The answer's head. bytesMayPass: the answer began at the start of this read and nothing
   * came before it (no interim 1xx), so "pass-bytes" may be returned.
   */
  head(h: ParsedHead, bytesMayPass: boolean): HeadDecision;
  body(chunk: Buffer): void;
  /** After "pass-bytes": the bytes of one read, parsed and all part of this answer. */
  raw(bytes: Buffer): void;
  /** The answer is whole: its last bytes (the last chunk), in the same write as the rest. */
  end(): void;
  /** After that write: the bookkeeping (keepAlive: the connection can carry another request).
   * Not before it, so the caller is woken first. */
  complete(keepAlive: boolean): void;
  /** The connection broke or spoke garbage before the answer was whole. */
  failed(reason: string): void;
}

const legs = new WeakMap<Duplex, Leg>();

export class Leg {
  user: LegUser | undefined;
  private keepAlive = false;
  private informational = false;
  /** An answer that ended in the read being parsed: completed once that read's output is written. */
  private ended: { user: LegUser; keepAlive: boolean } | undefined;
  private readonly parser: HttpParser;
  /** Bytes of the answer now arriving were read before this read. */
  private midAnswer = false;
  /** The read being parsed began the answer (set per read, for the head's decision). */
  private fresh = false;
  /** An interim 1xx answer came in the read being parsed. */
  private interim = false;
  /** The answer whose bytes pass as read ("pass-bytes"), until it ends. */
  private passing: LegUser | undefined;
  /** A head came after the answer ended, in the same read: bytes nobody asked for. */
  private stray = false;

  static of(socket: Duplex): Leg {
    let leg = legs.get(socket);
    if (!leg) {
      leg = new Leg(socket);
      legs.set(socket, leg);
    }
    return leg;
  }

  private constructor(readonly socket: Duplex) {
    this.parser = new HttpParser("response", {
      head: (h) => {
        this.keepAlive = h.keepAlive;
        // 1xx interim answers (102, 103) are not relayed; the final answer follows.
        this.informational = h.status < 200;
        if (this.informational) {
          this.interim = true;
          return false;
        }
        const user = this.user;
        if (!user) {
          this.stray = true;
          return false;
        }
        const decision = user.head(h, this.fresh && !this.interim);
        if (decision === "pass-bytes") this.passing = user;
        return decision === "skip-body";
      },
      body: (chunk) => this.user?.body(chunk),
      complete: () => {
        if (this.informational) {
          this.informational = false;
          return;
        }
        this.midAnswer = false;
        const user = this.user;
        this.user = undefined;
        if (!user) return;
        user.end();
        this.ended = { user, keepAlive: this.keepAlive };
      },
    });
    socket.on("data", (d: Buffer) => {
      // Bytes nobody asked for (an origin must not answer before it is asked): not trusted.
      const user = this.user;
      if (!user) return this.fail("the origin sent bytes nobody asked for");
      this.fresh = !this.midAnswer;
      this.midAnswer = true;
      this.interim = false;
      this.stray = false;
      const out = user.output;
      out.cork();
      const r = this.parser.execute(d);
      const wrong =
        typeof r !== "number" ? `the origin's answer did not parse (${r.code ?? r.message})`
        : r < d.length ? "the origin switched protocols on a plain request"
        : this.stray ? "the origin sent bytes nobody asked for"
        : undefined;
      const passing = this.passing;
      if (passing) {
        if (wrong) {
          // Not one byte of this read was passed on: the caller cannot be answered whole.
          out.uncork();
          this.ended = undefined;
          this.user = passing;
          this.fail(wrong);
          return;
        }
        passing.raw(d);
        if (this.ended) this.passing = undefined;
      }
      out.uncork();
      this.settle();
      if (wrong) this.fail(wrong);
    });
    socket.on("end", () => {
      // An answer without a length ends with the connection (never one passed as read).
      if (this.user) this.parser.finish();
      this.settle();
      this.fail("the connection closed before the answer was whole");
    });
    socket.on("close", () => this.fail("the connection closed before the answer was whole"));
    socket.on("error", (err: NodeJS.ErrnoException) => this.fail(err.code ?? "connection error"));
  }

  private settle(): void {
    const ended = this.ended;
    this.ended = undefined;
    ended?.user.complete(ended.keepAlive);
  }

  private fail(reason: string): void {
    const user = this.user;
    this.user = undefined;
    this.passing = undefined;
    if (!this.socket.destroyed) this.socket.destroy();
    user?.failed(reason);
  }
}
