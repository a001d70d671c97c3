// One connection the front sends requests on (to an origin, or into the edge's own server),
// with the llhttp parser that reads its answers. The socket and parser live as long as the
// connection; each exchange sets `user` for the one answer it waits for.
import type { Duplex } from "node:stream";
import { HttpParser, type ParsedHead } from "./llhttp.js";

export interface LegUser {
  /** Where the answer goes: corked while one read from the connection is parsed, so what that
   * read produces (head, chunks, the last chunk) leaves in one write. */
  output: Duplex;
  /** The answer's head; return true when it has no body whatever its headers say (HEAD). */
  head(h: ParsedHead): boolean | void;
  body(chunk: Buffer): void;
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
        if (this.informational) return false;
        return this.user?.head(h);
      },
      body: (chunk) => this.user?.body(chunk),
      complete: () => {
        if (this.informational) {
          this.informational = false;
          return;
        }
        const user = this.user;
        this.user = undefined;
        if (!user) return;
        user.end();
        this.ended = { user, keepAlive: this.keepAlive };
      },
    });
    socket.on("data", (d: Buffer) => {
      // Bytes nobody asked for (an origin must not answer before it is asked): not trusted.
      if (!this.user) return this.fail("the origin sent bytes nobody asked for");
      const out = this.user.output;
      out.cork();
      const r = this.parser.execute(d);
      out.uncork();
      this.settle();
      if (typeof r !== "number") this.fail(`the origin's answer did not parse (${r.code ?? r.message})`);
      else if (r < d.length) this.fail("the origin switched protocols on a plain request");
    });
    socket.on("end", () => {
      // An answer without a length ends with the connection.
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
    if (!this.socket.destroyed) this.socket.destroy();
    user?.failed(reason);
  }
}
