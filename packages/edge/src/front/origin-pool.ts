// Raw keep-alive connections from the front to one region's hostd: the fast path writes its
// own request heads on them and reads the answers with llhttp (exchange.ts). Idle ones go
// first-in-last-out and close after 30 s, before hostd's 65 s keep-alive, so a request is never
// written into a socket the origin is closing; at most `maxSockets` are open, more requests wait.
import net from "node:net";
import tls from "node:tls";
import { PodflareError } from "@podflare/protocol";

const IDLE_CLOSE_MS = 30_000;

/** The error code of an acquire that found no connection free within its wait. */
export const POOL_FULL = "EPOOLFULL";

/** The answer for POOL_FULL: busy, not down. */
export function poolFullError(r: { name: string }, waitedMs: number): PodflareError {
  return new PodflareError("unavailable", `every connection the edge keeps to region ${r.name} was in use for ${waitedMs} ms; retry in a moment`, { "retry-after": "1" });
}

// Idle sockets are checked this often (one timer per pool, not one per request).
const SWEEP_MS = 5000;

export class OriginPool {
  private readonly idle: net.Socket[] = [];
  private readonly idleSince = new WeakMap<net.Socket, number>();
  private readonly sweeper: NodeJS.Timeout;
  private open = 0;
  private readonly waiting: Array<(c: net.Socket | Error) => void> = [];
  /** Connections that carried an exchange before (a reused one may have been closed by the origin). */
  private readonly used = new WeakSet<net.Socket>();
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly maxSockets: number,
  ) {
    this.sweeper = setInterval(() => {
      const old = Date.now() - IDLE_CLOSE_MS;
      for (const s of [...this.idle]) if ((this.idleSince.get(s) ?? 0) < old) s.destroy();
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  /** An idle connection at once, or undefined (then acquire()); no promise on the hot path. */
  takeIdle(): net.Socket | undefined {
    for (;;) {
      const s = this.idle.pop();
      if (!s) return undefined;
      if (s.destroyed || !s.writable) continue;
      s.resume(); // the last caller may have paused it (backpressure) as its answer ended
      return s;
    }
  }

  /** True when the socket carried an exchange before this one. */
  wasUsed(socket: net.Socket): boolean {
    return this.used.has(socket);
  }

  /**
   * A connected socket for one exchange; give it back with release() or drop it with discard().
   * fresh: not an idle one (a retry after a reused connection broke).
   */
  acquire(connectTimeoutMs: number, fresh = false): Promise<net.Socket> {
    const s = fresh ? undefined : this.takeIdle();
    if (s) return Promise.resolve(s);
    if (this.closed) return Promise.reject(Object.assign(new Error("the edge is closing"), { code: "ECONNABORTED" }));
    if (this.open >= this.maxSockets) {
      // Waits for a connection to come free, at most as long as a connection may take to make.
      return new Promise((resolve, reject) => {
        const waiter = (c: net.Socket | Error): void => {
          clearTimeout(timer);
          if (c instanceof Error) reject(c);
          else resolve(c);
        };
        const timer = setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(Object.assign(new Error(`all ${this.maxSockets} connections are in use`), { code: POOL_FULL }));
        }, connectTimeoutMs);
        this.waiting.push(waiter);
      });
    }
    return this.connect(connectTimeoutMs);
  }

  /** The exchange ended cleanly and the origin keeps the connection open. */
  release(socket: net.Socket): void {
    this.used.add(socket);
    if (socket.destroyed || this.closed) {
      socket.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next(socket);
      return;
    }
    this.idleSince.set(socket, Date.now());
    this.idle.push(socket);
  }

  /** The socket is not reusable (an error, the origin closing, an answer cut short). */
  discard(socket: net.Socket): void {
    socket.destroy();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const s of this.idle.splice(0)) s.destroy();
    for (const w of this.waiting.splice(0)) w(Object.assign(new Error("the edge is closing"), { code: "ECONNABORTED" }));
  }

  private connect(connectTimeoutMs: number): Promise<net.Socket> {
    this.open++;
    const host = this.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(this.url.port || (this.url.protocol === "https:" ? 443 : 80));
    const socket =
      this.url.protocol === "https:"
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }).setNoDelay(true)
        : net.connect({ host, port, noDelay: true });
    socket.once("close", () => {
      this.open--;
      const i = this.idle.indexOf(socket);
      if (i >= 0) this.idle.splice(i, 1);
      // A slot came free: the longest waiter gets a new connection.
      const next = this.waiting.shift();
      if (next) this.connect(connectTimeoutMs).then(next, next);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no connection in ${connectTimeoutMs} ms`), { code: "ETIMEDOUT" })), connectTimeoutMs);
      const ready = socket instanceof tls.TLSSocket ? "secureConnect" : "connect";
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off("error", failed);
        // From now on errors end the socket ('close'); the leg using it (leg.ts) hears them too.
        socket.on("error", () => {});
        resolve(socket);
      });
      const failed = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once("error", failed);
    });
  }
}
