// One caller's connection to the edge's front: requests parsed with llhttp, answered in order,
// one at a time (pipelined requests wait their turn, the connection paused meanwhile). Calls on
// an id and the like go straight to the region's hostd on a raw keep-alive connection, creates
// with their failover, and everything else to the edge's own node:http server (inner.ts).
import type net from "node:net";
import type { Duplex } from "node:stream";
import { PodflareError } from "@podflare/protocol";
import { originPath } from "../origin-request.js";
import { rawErrorAnswer } from "../answer.js";
import type { Region } from "../regions.js";
import { replayable } from "../choose-region.js";
import { createThroughFront, type FrontConnection, type SendHooks } from "./create-flow.js";
import { answerToCaller, type Caller } from "./answer-to-caller.js";
import { Exchange, writeChunk } from "./exchange.js";
import { planFor } from "./plan.js";
import type { FrontDeps } from "./front-deps.js";
import { INNER_HOST, forwardHead, headWithBody, hostPort, requestFacts, verbatimHead } from "./heads.js";
import { connectInner, spliceToInner } from "./inner.js";
import { Leg } from "./leg.js";
import { POOL_FULL, poolFullError } from "./origin-pool.js";
import { HttpParser, type ParsedHead } from "./llhttp.js";
import { countAndLog, headTimeoutRefusal, parseRefusal } from "./front-answers.js";

// Body bytes held for a request that has no target yet; beyond, the caller is paused.
const MAX_HELD_BYTES = 1 << 20;
// After answering a request whose body was still coming: read and drop for this long, then close.
const CLOSE_LINGER_MS = 2000;

export class ClientConnection implements FrontConnection {
  private readonly parser: HttpParser;
  private readonly queue: Exchange[] = [];
  /** The request whose body is arriving. */
  private reading: Exchange | undefined;
  /** A keep-alive connection into the edge's own server, made when first needed. */
  private inner: Duplex | undefined;
  /** When the head now arriving began (0: none is arriving); checked by sweep(). */
  private headStartedMs = 0;
  /** Last bytes in or out; checked by sweep() against the idle timeout. */
  private lastActiveMs = Date.now();
  private betweenRequests = true;
  /** After an upgrade head or a parse error: no more requests are parsed. */
  private stopped = false;
  /** A parse error's answer, given once the whole requests ahead of it are answered. */
  private refusal: string | undefined;
  private spliceTo: Duplex | undefined;
  private readonly spliceHeld: Buffer[] = [];
  closed = false;
  /** The origin connection the request at the front is on: closed if the caller leaves. */
  private activeTarget: Duplex | undefined;
  /** A request at the front whose head is in the read being parsed: started when it is parsed. */
  private startAfterRead: Exchange | undefined;

  /** This connection as an answer sees it (answer-to-caller.ts). */
  private readonly caller: Caller;

  constructor(
    private readonly socket: net.Socket,
    readonly deps: FrontDeps,
  ) {
    this.caller = {
      socket,
      idleTimeoutMs: deps.idleTimeoutMs,
      touched: () => {
        this.lastActiveMs = Date.now();
      },
      answered: (ex, close) => this.finished(ex, close),
    };
    this.parser = new HttpParser("request", {
      head: (h) => this.onHead(h),
      body: (chunk) => this.onBody(chunk),
      complete: () => this.onRequestComplete(),
    });
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("end", () => this.onEnd());
    socket.on("error", () => {});
    socket.on("close", () => this.onClose());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** The edge as this caller reached it: the Host of a request that had none (heads.ts). */
  get localHost(): string {
    return hostPort(this.socket.localAddress, this.socket.localPort);
  }

  /** A request taken whose answer has not begun (a WebSocket once upgraded is not one). */
  awaitingAnswer(): boolean {
    return this.queue.some((e) => e.plan.to !== "splice" && !e.answered);
  }

  /** Closes the connection if no request is on it (an edge stopping). */
  closeIfIdle(): void {
    if (this.queue.length === 0 && this.headStartedMs === 0) this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (this.stopped) {
      const to = this.spliceTo;
      if (to) {
        if (!to.write(d)) {
          this.socket.pause();
          to.once("drain", () => this.socket.resume());
        }
      }
      else if (this.queue.some((e) => e.plan.to === "splice")) {
        this.spliceHeld.push(d);
        this.socket.pause();
      }
      return;
    }
    this.lastActiveMs = Date.now();
    if (this.betweenRequests && this.headStartedMs === 0) this.headStartedMs = this.lastActiveMs;
    const r = this.parser.execute(d);
    if (typeof r !== "number") {
      this.protocolError(r.code);
      // Whole requests of this read ahead of the bad bytes still go (protocolError kept them).
      if (this.refusal === undefined) return;
    }
    // A request whose head came in this read starts now, with the body bytes of the same read
    // held: head and body then leave in one write, so the origin wakes once, not twice.
    const next = this.startAfterRead;
    this.startAfterRead = undefined;
    if (next && !next.begun && !this.closed) this.start(next);
    // An upgrade head: what followed it belongs to the upgraded protocol.
    if (typeof r === "number" && r < d.length && this.stopped) this.onData(d.subarray(r));
  }

  private onHead(h: ParsedHead): void {
    this.headStartedMs = 0;
    this.betweenRequests = false;
    if (this.deps.draining() && this.queue.length === 0) {
      this.stopped = true;
      const err = new PodflareError("unavailable", "the edge is stopping; send the call again in a moment (another edge answers it, or this one once it is back)");
      this.socket.end(rawErrorAnswer(err, true, 503));
      return;
    }
    const facts = requestFacts(h);
    const ex = new Exchange(h, facts, planFor(h, facts, this.deps.chooser));
    if (h.upgrade) this.stopped = true;
    this.reading = ex;
    this.queue.push(ex);
    if (this.queue.length === 1) this.startAfterRead = ex;
    // A pipelined request waits its turn; so does the caller.
    else this.socket.pause();
  }

  private onBody(chunk: Buffer): void {
    const ex = this.reading;
    if (!ex) return;
    if (ex.sink) {
      if (!ex.sink(chunk)) this.socket.pause();
      return;
    }
    ex.held.push(chunk);
    ex.heldBytes += chunk.length;
    if (ex.plan.to === "create" && ex.heldBytes > this.deps.maxCreateBodyBytes && this.queue[0] === ex) {
      // Too big to hold for a retry: the edge's own server reads it and answers 413.
      ex.plan = { to: "inner" };
      ex.onRequestDone = undefined;
      ex.begun = true;
      this.toInner(ex);
      return;
    }
    if (ex.heldBytes > MAX_HELD_BYTES) this.socket.pause();
  }

  private onRequestComplete(): void {
    const ex = this.reading;
    this.reading = undefined;
    this.betweenRequests = true;
    if (!ex) return;
    ex.requestDone = true;
    if (ex.endBody) ex.endBody();
    const waiting = ex.onRequestDone;
    ex.onRequestDone = undefined;
    waiting?.();
  }

  /** The request at the front of the queue goes on its way. */
  private start(ex: Exchange): void {
    ex.begun = true;
    const plan = ex.plan;
    // The share first: a call refused its share gets no 100 Continue, so the caller keeps its body.
    if ((plan.to === "origin" || plan.to === "create") && !this.takeShare(ex)) return;
    if (plan.to === "refuse") return this.answerError(ex, plan.err);
    if (ex.facts.expectContinue && !ex.requestDone && ex.head.versionMinor >= 1 && plan.to !== "splice") {
      this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (plan.to === "origin") this.toOrigin(ex, plan.region);
    else if (plan.to === "create") createThroughFront(this, ex);
    else if (plan.to === "inner") this.toInner(ex);
    else this.splice(ex);
  }

  /** A place among the caller's calls open to origins (key-shares.ts); answered 429 when it has none. */
  private takeShare(ex: Exchange): boolean {
    const caller = ex.facts.caller ?? `peer ${this.socket.remoteAddress ?? "?"}`;
    if (this.deps.shares.enter(caller)) ex.share = caller;
    else this.answerError(ex, this.deps.shares.refusal());
    return ex.share !== undefined;
  }

  private leaveShare(ex: Exchange): void {
    if (ex.share === undefined) return;
    this.deps.shares.leave(ex.share);
    ex.share = undefined;
  }

  /** retry: the second try of a read whose reused connection broke (on a new connection). */
  private toOrigin(ex: Exchange, region: Region, retry = false): void {
    ex.region = region.name;
    const pool = this.deps.pool(region);
    const go = (socket: net.Socket): void => {
      if (this.closed) return pool.release(socket);
      const reused = pool.wasUsed(socket);
      const path = originPath(region, ex.head.url);
      this.send(ex, socket, forwardHead(ex.head, path, ex.facts.chunked, this.socket.remoteAddress, undefined, this.localHost), {
        done: (keepAlive) => (keepAlive && ex.sentAll ? pool.release(socket) : pool.discard(socket)),
        failedBeforeAnswer: (reason) => {
          // A caller that left is not the region's fault: nothing to answer.
          if (this.closed) return;
          // The origin may have closed this idle connection as it was taken: a read goes again.
          if (reused && !retry && replayable(ex.head.method, ex.facts.hasBody)) return this.toOrigin(ex, region, true);
          this.answerError(ex, this.deps.chooser.broken(region, reason));
        },
      });
    };
    // An idle connection is used in this tick; only a new one is waited for.
    const idle = retry ? undefined : pool.takeIdle();
    if (idle) return go(idle);
    // No connection could be made: that region is down.
    pool.acquire(this.deps.connectTimeoutMs, retry).then(go, (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      // Every connection to the region busy: the edge's limit, not the region's fault.
      if (err.code === POOL_FULL) this.answerError(ex, poolFullError(region, this.deps.connectTimeoutMs));
      else this.answerError(ex, this.deps.chooser.down(region, err.code ?? "connection error"));
    });
  }

  toInner(ex: Exchange): void {
    if (!this.inner || this.inner.destroyed) this.inner = connectInner(this.deps.inner, this.socket.remoteAddress, this.socket.remotePort);
    const inner = this.inner;
    // The edge's server counts and logs what it answers; so no region here.
    this.send(ex, inner, forwardHead(ex.head, ex.head.url, ex.facts.chunked, undefined, undefined, INNER_HOST), {
      done: (keepAlive) => {
        if (!keepAlive) inner.destroy();
      },
      failedBeforeAnswer: () => this.answerError(ex, new PodflareError("internal", "the edge's own server did not answer")),
    });
  }

  /**
   * Writes the head and the body (held, then as it comes) to `target`, and relays the answer to
   * the caller as it arrives, with backpressure both ways.
   */
  send(
    ex: Exchange,
    target: Duplex,
    head: string,
    hooks: SendHooks,
    wholeBody?: Buffer,
  ): void {
    const leg = Leg.of(target);
    if (target !== this.inner) this.activeTarget = target;
    leg.user = answerToCaller(this.caller, ex, leg, target, hooks);
    const markSent = (): void => {
      ex.sentAll = true;
    };
    if (wholeBody !== undefined) {
      target.write(headWithBody(head, wholeBody), "latin1", markSent);
      return;
    }
    const framed = ex.facts.chunked;
    const sink = (chunk: Buffer): boolean => {
      const ok = framed ? writeChunk(target, chunk) : target.write(chunk);
      if (!ok) target.once("drain", () => this.socket.resume());
      return ok;
    };
    if (ex.held.length === 0) target.write(head, "latin1");
    else {
      target.write(framed ? head : headWithBody(head, ex.held.length === 1 ? ex.held[0]! : Buffer.concat(ex.held)), "latin1");
      if (framed) for (const c of ex.held) writeChunk(target, c);
      ex.held = [];
      ex.heldBytes = 0;
      this.socket.resume();
    }
    ex.endBody = () => {
      if (framed) target.write("0\r\n\r\n");
      markSent();
    };
    if (ex.requestDone) ex.endBody();
    else ex.sink = sink;
  }

  /** An answer the front gives itself, in the API's error envelope. */
  answerError(ex: Exchange, err: PodflareError): void {
    if (this.closed) return;
    // Answered before its body was all read: the connection closes after, and says so.
    const close = !ex.head.keepAlive || !ex.requestDone || ex.plan.to === "refuse";
    this.socket.write(rawErrorAnswer(err, close, err.status, ex.facts.e2b));
    ex.answered = true;
    ex.status = err.status;
    this.finished(ex, close);
  }

  /** The answer is whole: counted, logged, and the next request goes. */
  private finished(ex: Exchange, close: boolean): void {
    this.leaveShare(ex);
    countAndLog(this.deps, ex);
    this.queue.shift();
    this.activeTarget = undefined;
    ex.sink = undefined;
    ex.endBody = undefined;
    // An answer given before the body was all read: the rest is read and dropped for a while.
    if (close || !ex.requestDone) return this.closeAfter();
    const next = this.queue[0];
    if (next) this.start(next);
    else if (this.refusal) return this.closeAfter(this.refusal);
    if (this.queue.length <= 1 && !this.stopped) this.socket.resume();
  }

  /** Ends the connection after `last`, reading and dropping what the caller still sends for a while. */
  private closeAfter(last?: string): void {
    this.stopped = true;
    this.socket.resume();
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  /** An upgrade (WebSocket): the connection is handed, head and all, to the edge's own server. */
  private splice(ex: Exchange): void {
    this.spliceTo = spliceToInner(this.deps.inner, this.socket, verbatimHead(ex.head), this.spliceHeld.splice(0));
  }

  private protocolError(llhttpCode: string | undefined): void {
    this.stopped = true;
    const refusal = parseRefusal(llhttpCode);
    // llhttp may pass a bad request's head before refusing it (an unknown Transfer-Encoding): it
    // never went anywhere; cutting the connection for it lost a create's answer (tester tr).
    const bad = this.reading;
    if (bad && !bad.begun && this.queue[this.queue.length - 1] === bad) {
      this.queue.pop();
      this.reading = undefined;
      if (this.startAfterRead === bad) this.startAfterRead = undefined;
    }
    if (this.queue.length === 0) this.socket.end(refusal);
    // Whole requests ahead of the bad bytes are answered first, as hostd does; what follows
    // is read and dropped meanwhile, so no reset cuts those answers off.
    else if (this.queue.every((e) => e.requestDone)) {
      this.refusal = refusal;
      this.socket.resume();
    } else this.socket.destroy();
  }

  /** The caller finished sending: as node:http does, a request still in flight is abandoned. */
  private onEnd(): void {
    if (this.spliceTo) this.spliceTo.end();
    else if (this.queue.length === 0) this.socket.end();
    else this.socket.destroy();
  }

  /**
   * Called about once a second (front-server.ts; one timer for all connections, not one per
   * request): a head slower than the headers timeout, or a connection idle past the idle timeout
   * while the caller is the one stalling, is closed. A quiet exec (the origin has nothing to
   * say yet) is not the caller's fault and is kept.
   */
  sweep(nowMs: number): void {
    if (this.closed || this.spliceTo) return;
    if (this.headStartedMs !== 0 && nowMs - this.headStartedMs > this.deps.headersTimeoutMs) {
      if (this.queue.length === 0) this.closeAfter(headTimeoutRefusal(this.deps.headersTimeoutMs));
      else this.socket.destroy();
      return;
    }
    if (nowMs - this.lastActiveMs <= this.deps.idleTimeoutMs) return;
    const ex = this.queue[0];
    const callerStalled = !ex || !ex.requestDone || this.socket.writableLength > 0;
    if (callerStalled) this.socket.destroy();
    else this.lastActiveMs = nowMs;
  }

  private onClose(): void {
    this.closed = true;
    this.deps.forget(this);
    // The caller left: whatever it started (an exec streaming) is stopped at the target.
    const ex = this.queue[0];
    if (ex) this.leaveShare(ex);
    if (ex && !ex.requestDone) ex.onRequestDone = undefined;
    for (const e of this.queue.splice(0)) e.sink = undefined;
    this.inner?.destroy();
    this.spliceTo?.destroy();
    this.activeTarget?.destroy();
    this.parser.close();
  }
}
