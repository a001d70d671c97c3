// Sits between a port stream and Node's HTTP client in the port proxy. Until the server's final
// answer head has been parsed, its bytes reach the parser one small slice per event-loop turn:
// a server that sends interim (1xx) answers without end (thousands in one read) then costs a
// little parsing per turn, other requests are served in between, and the proxy can stop at its
// cap of interim answers before the rest is parsed. After the head, bytes pass straight through,
// with backpressure both ways.
import { Duplex } from "node:stream";
import type net from "node:net";

const SLICE_BYTES = 2048;
// Bytes read ahead of the parser while gated; more waits in the sandbox's socket.
const MAX_PENDING_BYTES = 64 * 1024;

export class HeadGate extends Duplex {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private passing = false;
  private scheduled = false;
  private innerEnded = false;
  private wanted = false;

  constructor(private readonly inner: net.Socket) {
    super({ allowHalfOpen: true });
    inner.on("data", (chunk: Buffer) => this.fromInner(chunk));
    inner.on("end", () => {
      this.innerEnded = true;
      this.schedule();
    });
    inner.on("close", () => this.destroy());
  }

  /** The final answer's head has been parsed: from now on bytes pass at once. */
  release(): void {
    this.passing = true;
    this.schedule(); // never from inside the parser's own call: it is not re-entrant
  }

  override _read(): void {
    this.wanted = true;
    this.schedule();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner.write(chunk)) cb();
    else this.inner.once("drain", () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.inner.destroy();
    cb(err);
  }

  private fromInner(chunk: Buffer): void {
    if (this.destroyed) return;
    if (this.passing && this.pendingBytes === 0) {
      if (!this.push(chunk)) {
        this.wanted = false;
        this.inner.pause();
      }
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.inner.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.destroyed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.destroyed || !this.wanted) return;
    while (this.pendingBytes > 0) {
      let chunk = this.pending[0]!;
      if (!this.passing && chunk.length > SLICE_BYTES) {
        this.pending[0] = chunk.subarray(SLICE_BYTES);
        chunk = chunk.subarray(0, SLICE_BYTES);
      } else this.pending.shift();
      this.pendingBytes -= chunk.length;
      const more = this.push(chunk);
      if (this.destroyed) return;
      if (!this.passing) {
        // One slice per turn until the head is known.
        if (this.pendingBytes > 0) this.schedule();
        break;
      }
      if (!more) {
        this.wanted = false;
        this.inner.pause();
        return;
      }
    }
    if (this.pendingBytes === 0 && this.innerEnded) {
      this.push(null);
      return;
    }
    if (this.pendingBytes < MAX_PENDING_BYTES && this.wanted) this.inner.resume();
  }
}
