// One Unix-socket connection to a guest kernel, speaking frames (packages/protocol/src/frames.ts).
// Frames are routed to per-request handlers by id. The guest is untrusted: a malformed frame
// closes the connection.
import net from "node:net";
import {
  FrameDecoder,
  encodeFrame,
  type Frame,
  type GuestFrame,
  type HostFrame,
} from "@podflare/protocol";
import { checkHello, type Hello } from "./guest-hello.js";

/** The guest broke the frame protocol (a frame over FRAME_MAX_BYTES, bad JSON): it is cut off. */
export class GuestProtocolError extends Error {
  constructor(detail: string) {
    super(`the sandbox's guest kernel sent a malformed frame (${detail}); the connection to it was closed`);
  }
}

export type FrameHandler = (frame: Frame<GuestFrame>) => void;

/**
 * What one frame costs the owner's pace beyond its bytes, and one line of exec output (each
 * becomes an event hostd encodes): about hostd's CPU for 256 bytes of output (~2 µs a line, ~10 ms
 * a MB, measured), so a stream of tiny frames or lines is paced like bytes.
 */
export const FRAME_COST_BYTES = 256;

export class GuestConnection {
  readonly hello: Hello;
  private readonly handlers = new Map<number, FrameHandler>();
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private nextRequestId = 1;
  private closedWith: Error | null | undefined;
  /** Why the socket is not read now: a full reader ("reader"), the owner's output rate ("rate"). */
  private readonly pausedFor = new Set<"reader" | "rate">();
  private rateTimer: NodeJS.Timeout | undefined;
  /** Requests whose `data` frames are a file's bytes on their way to a download: not paced. */
  private readonly downloads = new Set<number>();
  /**
   * Paces what hostd reads from this connection: given the bytes just read (and FRAME_COST_BYTES
   * a frame), the ms to stop reading for, 0 for none (the owner's output rate, live-sandboxes.ts).
   * The guest then blocks on its own writes meanwhile, as on a slow reader.
   */
  meter: ((bytes: number) => number) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    hello: Hello,
    private readonly decoder: FrameDecoder<GuestFrame>,
  ) {
    this.hello = hello;
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame<GuestFrame>[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        // Oversize (FRAME_MAX_BYTES) or malformed: nothing more is buffered or read from it.
        socket.destroy(new GuestProtocolError((err as Error).message));
        return;
      }
      // Whatever the guest sends costs hostd, not only program output (rich results, watch
      // events, frames for no request; outside tester tq): all of it counts, but a file's bytes
      // on their way to a download, which the files API moves at disk speed.
      let cost = 0;
      for (const f of frames) {
        // A handler that closed the connection (a guest that broke its protocol) is done with
        // it: the frames after, in the same chunk, must not reach anyone (a download's `done`
        // after its overflow sent the held bytes out as a whole answer).
        if (socket.destroyed) break;
        if (!(f.header.t === "data" && this.downloads.has(f.header.id))) cost += f.body.length + FRAME_COST_BYTES;
        this.route(f);
      }
      this.charge(cost);
    });
    socket.on("close", () => {
      clearTimeout(this.rateTimer);
      this.finish(this.closedWith ?? undefined);
    });
    socket.on("error", (err) => {
      this.closedWith = err;
    });
  }

  /** Connects and waits for the guest's hello frame. */
  static connect(socketPath: string, timeoutMs: number): Promise<GuestConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const decoder = new FrameDecoder<GuestFrame>();
      let pending: Frame<GuestFrame>[] = [];
      const timer = setTimeout(() => fail(new Error(`guest kernel did not answer within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on("error", () => {});
        socket.destroy();
        reject(err);
      };
      socket.on("error", fail);
      socket.on("close", () => fail(new Error("guest kernel closed the connection before saying hello")));
      socket.on("data", (chunk: Buffer) => {
        try {
          pending = pending.concat(decoder.push(chunk));
        } catch (err) {
          fail(err as Error);
          return;
        }
        const first = pending.shift();
        if (!first) return;
        if (first.header.t !== "hello") return fail(new Error(`guest kernel sent ${first.header.t} before hello`));
        try {
          checkHello(first.header);
        } catch (err) {
          return fail(err as Error);
        }
        clearTimeout(timer);
        socket.removeAllListeners();
        const conn = new GuestConnection(socket, first.header, decoder);
        for (const f of pending) conn.route(f);
        resolve(conn);
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined && this.socket.destroyed;
  }

  /**
   * Registers a handler for a fresh request id and returns the id. `download`: the request reads
   * a file, whose `data` frames are not paced (any other request's are, like every frame).
   */
  open(handler: FrameHandler, opts: { download?: boolean } = {}): number {
    const id = this.nextRequestId++;
    this.handlers.set(id, handler);
    if (opts.download) this.downloads.add(id);
    return id;
  }

  release(id: number): void {
    this.handlers.delete(id);
    this.downloads.delete(id);
  }

  /** Sends a frame; returns false when the socket buffer is full (wait for drain()). */
  send(header: HostFrame, body?: Buffer): boolean {
    if (this.socket.destroyed) throw new Error("guest connection is closed");
    return this.socket.write(encodeFrame(header, body));
  }

  drain(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** Counts `bytes` of hostd's work against the owner's pace; past it, stops reading for the time owed. */
  charge(bytes: number): void {
    const waitMs = bytes > 0 && this.meter ? this.meter(bytes) : 0;
    if (waitMs <= 0 || this.rateTimer) return;
    this.pause("rate");
    this.rateTimer = setTimeout(() => {
      this.rateTimer = undefined;
      this.resume("rate");
    }, waitMs);
  }

  /** Not read now because the owner's pace is spent (the guest's writes wait meanwhile). */
  get pacing(): boolean {
    return this.pausedFor.has("rate");
  }

  /** Stops reading from the guest (backpressure towards a slow HTTP client, or the output rate). */
  pause(why: "reader" | "rate" = "reader"): void {
    this.pausedFor.add(why);
    this.socket.pause();
  }

  /** Reads again once nothing else holds it paused. */
  resume(why: "reader" | "rate" = "reader"): void {
    this.pausedFor.delete(why);
    if (this.pausedFor.size === 0) this.socket.resume();
  }

  /**
   * Calls `listener` when the connection closes (at once if it already has). Returns the way to
   * take it back: a request on the long-lived control connection must, or every exec would
   * leave a listener behind for the life of the sandbox.
   */
  onClose(listener: (err?: Error) => void): () => void {
    if (this.closedWith !== undefined && this.socket.destroyed) {
      listener(this.closedWith ?? undefined);
      return () => {};
    }
    this.closeListeners.push(listener);
    return () => {
      const i = this.closeListeners.indexOf(listener);
      if (i !== -1) this.closeListeners.splice(i, 1);
    };
  }

  /** Close listeners waiting now (for tests of the listener bookkeeping). */
  get closeListenerCount(): number {
    return this.closeListeners.length;
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * Hands the socket over to a caller that stops speaking frames on it (the port proxy's
   * relay): no handler of this object reads it any more. Bytes already received past the
   * last frame are put back on the socket. Only for a connection with no request open.
   */
  takeSocket(): net.Socket {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("close");
    this.socket.removeAllListeners("error");
    clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    this.pausedFor.clear();
    this.socket.pause();
    const rest = this.decoder.takeBuffered();
    if (rest.length) this.socket.unshift(rest);
    this.closedWith = null;
    this.handlers.clear();
    this.downloads.clear();
    this.closeListeners.splice(0);
    return this.socket;
  }

  private route(frame: Frame<GuestFrame>): void {
    const id = (frame.header as { id?: unknown }).id;
    if (typeof id !== "number") return;
    this.handlers.get(id)?.(frame);
  }

  private finish(err?: Error): void {
    if (this.closedWith === undefined) this.closedWith = err ?? null;
    const listeners = this.closeListeners.splice(0);
    for (const l of listeners) l(err);
    this.handlers.clear();
    this.downloads.clear();
  }
}
