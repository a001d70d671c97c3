// The edge's own node:http server reached from the front without a socket: what the fast path
// does not serve (the edge's endpoints, lists across regions, upgrades, answers for regions
// that are down, malformed targets) is written to it over an in-memory connection that
// carries the caller's address, and its answers come back the same way.
import type http from "node:http";
import { Duplex } from "node:stream";

class Half extends Duplex {
  other: Half | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** The other half's write, held until this half's reader wants more (backpressure). */
  private heldWrite: (() => void) | undefined;

  override _read(): void {
    const done = this.heldWrite;
    this.heldWrite = undefined;
    done?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const o = this.other;
    if (!o) return done();
    // A full reader on the other side holds this write, and so whoever writes here.
    if (o.push(chunk)) done();
    else o.heldWrite = () => done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.other?.push(null);
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const o = this.other;
    this.other = undefined;
    if (o && !o.destroyed) {
      o.other = undefined;
      o.destroy();
    }
    done(err);
  }

  // node:http sets these on the sockets it serves.
  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** A new connection into `server` as if from `remoteAddress`; the front's end is returned. */
export function connectInner(server: http.Server, remoteAddress: string | undefined, remotePort: number | undefined): Duplex {
  const ours = new Half();
  const theirs = new Half();
  ours.other = theirs;
  theirs.other = ours;
  theirs.remoteAddress = remoteAddress;
  theirs.remotePort = remotePort;
  server.emit("connection", theirs);
  return ours;
}

/**
 * An upgrade (WebSocket): the caller's connection is handed, head and all, to the edge's own
 * server; each side's close ends the other. Returns the inner side the caller's bytes go to.
 */
export function spliceToInner(server: http.Server, caller: import("node:net").Socket, head: string, held: Buffer[]): Duplex {
  const inner = connectInner(server, caller.remoteAddress, caller.remotePort);
  inner.write(head, "latin1");
  for (const b of held) inner.write(b);
  inner.pipe(caller);
  inner.on("error", () => caller.destroy());
  inner.on("close", () => caller.destroy());
  caller.resume();
  return inner;
}
