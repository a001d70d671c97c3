// The port proxy: /v1/sandboxes/:id/ports/:port/<path> is served by an HTTP server listening
// inside the sandbox. Each request (or WebSocket) gets its own stream through the guest kernel
// (runtime/port-stream.ts), over which hostd speaks HTTP/1.1. Bodies stream both ways with
// backpressure; nothing is buffered whole. The server inside is hostile: whatever it sends,
// hostd answers the caller with an error and goes on.
import http from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";
import { PodflareError, limits, sandboxIdPattern, type ErrorBody } from "@podflare/protocol";
import type { Authenticator } from "../auth/authenticator.js";
import type { OpenCalls } from "../auth/open-calls.js";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { HeadGate } from "./head-gate.js";
import { internalError, sendError } from "./http.js";
import {
  PORT_ROUTE,
  PROXY_METHODS,
  mountPrefix,
  parsePort,
  requestHeaders,
  responseHeaders,
  upstreamTarget,
} from "./proxy-headers.js";
import { malformedSandboxId, type Route, type RouteContext, type RouteMaker } from "./route.js";
import { requestUrl } from "./request-url.js";

export class PortProxy {
  /** Streams open now, so that a hostd shutdown can end them. */
  private readonly open = new Set<net.Socket>();

  constructor(
    private readonly cfg: HostdConfig,
    private readonly sandboxes: SandboxManager,
    private readonly auth: Authenticator,
    private readonly log: (msg: string) => void,
    /** Where the upgraded connection is tracked under its key, to be closed if the key is revoked. */
    private readonly calls?: OpenCalls,
  ) {}

  /** One route per method; the path part after the port is matched by the pattern itself. */
  routes(route: RouteMaker): Route[] {
    const path = "/v1/sandboxes/([^/]+)/ports/([^/]*)(?:/.*)?";
    return PROXY_METHODS.map((method) => route(method, path, (ctx) => this.proxyHttp(ctx)));
  }

  /** The HTTP server's 'upgrade' event: WebSockets to a port. False for other paths. */
  handleUpgrade(req: http.IncomingMessage, client: Duplex, head: Buffer): boolean {
    const m = PORT_ROUTE.exec(requestUrl(req.url).pathname);
    if (!m) return false;
    client.on("error", () => {});
    client.pause(); // what the caller sends early waits for the stream inside (pipe resumes)
    this.upgrade(req, client, head, decode(m[1]!), decode(m[2]!)).catch((err) => {
      const e = err instanceof PodflareError ? err : internalError();
      if (e.code === "internal") this.log(`port proxy: ${(err as Error)?.stack ?? String(err)}`);
      writeRawError(client, e);
    });
    return true;
  }

  /** Ends every proxied stream (hostd shutdown). */
  closeAll(): void {
    for (const s of this.open) s.destroy();
  }

  private async connect(owner: string, id: string, port: number): Promise<net.Socket> {
    const stream = await this.sandboxes.openPort(owner, id, port, this.cfg.proxy.connectTimeoutMs);
    this.open.add(stream);
    stream.once("close", () => this.open.delete(stream));
    return stream;
  }

  private async proxyHttp(ctx: RouteContext): Promise<void> {
    const { req, res } = ctx;
    const [id, rawPort] = [ctx.params[0]!, ctx.params[1]!];
    checkId(id);
    const port = parsePort(rawPort);
    this.sandboxes.info(ctx.owner, id); // 404 before anything else
    const stream = await this.connect(ctx.owner, id, port);
    if (res.destroyed) {
      stream.destroy(); // the caller left while we connected
      return;
    }
    const timeoutMs = this.cfg.proxy.responseTimeoutMs;

    await new Promise<void>((resolve) => {
      let answered = false;
      let failed = false;
      const fail = (err: PodflareError) => {
        if (answered) return;
        answered = true;
        failed = true;
        stream.destroy();
        req.unpipe();
        req.resume(); // let the caller finish sending, so it reads our answer
        sendError(res, err, this.log);
        resolve();
      };
      const gate = new HeadGate(stream);
      const upstream = http.request({
        createConnection: () => gate,
        method: req.method,
        path: upstreamTarget(req.url ?? "/"),
        headers: requestHeaders(req.rawHeaders, {
          remoteAddress: req.socket.remoteAddress ?? "",
          port,
          prefix: mountPrefix(id, port),
        }) as unknown as http.OutgoingHttpHeaders,
        setHost: false,
      });
      // The clock starts once the request is sent whole: a long upload is not a slow server.
      let timer: NodeJS.Timeout | undefined;
      upstream.on("finish", () => {
        if (answered) return;
        timer = setTimeout(
          () => fail(new PodflareError("upstream_timeout", `the server on port ${port} inside the sandbox did not answer within ${timeoutMs} ms; make it answer sooner, or raise PODFLARE_PROXY_TIMEOUT_MS on the host`)),
          timeoutMs,
        );
      });
      // The stream comes paused (nothing read before its reader exists); the client's
      // parser is listening once 'socket' fires.
      upstream.on("socket", (s) => s.resume());
      // Interim answers (100 Continue, 103 Early Hints) are not passed on; a few are normal,
      // an endless run is a server that will never answer.
      let interim = 0;
      upstream.on("information", () => {
        if (++interim <= limits.maxProxyInterimAnswers) return;
        clearTimeout(timer);
        fail(new PodflareError("upstream_error", `the server on port ${port} inside the sandbox sent more than ${limits.maxProxyInterimAnswers} interim (1xx) answers to one request; make it send its final answer after at most ${limits.maxProxyInterimAnswers}`));
      });
      upstream.on("error", (err) => {
        clearTimeout(timer);
        if (answered) {
          if (!failed) res.destroy(); // our own error answer is on its way: let it go out
          return resolve();
        }
        fail(new PodflareError("upstream_error", `the server on port ${port} inside the sandbox broke the connection or sent something that is not HTTP/1.1 (${err.message}); check that it is an HTTP server`));
      });
      upstream.on("response", (up) => {
        clearTimeout(timer);
        gate.release();
        if (answered) {
          up.destroy();
          return;
        }
        try {
          res.writeHead(up.statusCode ?? 502, reasonPhrase(up.statusCode, up.statusMessage), responseHeaders(up.rawHeaders, mountPrefix(id, port)));
        } catch (err) {
          // A header Node refuses to send on (hostile server); writeHead keeps what it was given.
          res.statusMessage = "";
          up.destroy();
          return fail(new PodflareError("upstream_error", `the server on port ${port} inside the sandbox answered with a status line or header that cannot be passed on (${(err as Error).message})`));
        }
        answered = true;
        up.pipe(res);
        up.on("error", () => res.destroy());
        up.on("aborted", () => res.destroy());
        res.on("close", () => {
          stream.destroy();
          resolve();
        });
      });
      // The caller went away first: stop everything inside too.
      res.on("close", () => {
        if (!res.writableFinished) stream.destroy();
        clearTimeout(timer);
        resolve();
      });
      req.pipe(upstream);
    });
  }

  private async upgrade(req: http.IncomingMessage, client: Duplex, head: Buffer, id: string, rawPort: string): Promise<void> {
    const owner = this.auth.principal(req).owner;
    this.calls?.trackSocket(owner, client);
    checkId(id);
    const port = parsePort(rawPort);
    this.sandboxes.info(owner, id);
    const stream = await this.connect(owner, id, port);
    if (client.destroyed) {
      stream.destroy();
      return;
    }
    const headers = requestHeaders(req.rawHeaders, {
      remoteAddress: req.socket.remoteAddress ?? "",
      port,
      prefix: mountPrefix(id, port),
      upgrade: req.headers.upgrade ?? "websocket",
    });
    let text = `${req.method} ${upstreamTarget(req.url ?? "/")} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    stream.write(text + "\r\n");
    if (head.length) stream.write(head);

    // Until the server inside says anything, a silent one gets a 504; after that the bytes
    // (its 101 answer or a refusal, then frames) go through untouched.
    const timeoutMs = this.cfg.proxy.responseTimeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stream.unpipe(client);
      client.unpipe(stream);
      writeRawError(client, new PodflareError("upstream_timeout", `the server on port ${port} inside the sandbox did not answer the upgrade within ${timeoutMs} ms`));
      stream.destroy();
    }, timeoutMs);
    stream.once("data", () => clearTimeout(timer));
    stream.once("close", () => clearTimeout(timer));
    stream.pipe(client);
    client.pipe(stream);
    // One side gone: let the other flush what it still holds (a close frame), then cut it.
    stream.on("close", () => {
      if (!timedOut) endThenDestroy(client);
    });
    client.on("close", () => endThenDestroy(stream));
    stream.resume();
  }
}

const FLUSH_GRACE_MS = 5000;

function endThenDestroy(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref();
}

/** The server's reason phrase if it is sendable, else the standard one (hostile servers). */
function reasonPhrase(status: number | undefined, message: string | undefined): string {
  if (message !== undefined && !/[^\t\x20-\x7e\x80-\xff]/.test(message)) return message;
  return http.STATUS_CODES[status ?? 502] ?? "";
}

function checkId(id: string): void {
  if (!sandboxIdPattern.test(id)) {
    throw malformedSandboxId(id);
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** An error answer written straight on a socket that was never given an http.ServerResponse. */
function writeRawError(socket: Duplex, err: PodflareError): void {
  if (socket.destroyed || !socket.writable) return;
  const body = JSON.stringify(err.toBody() satisfies ErrorBody);
  const extra = Object.entries(err.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status] ?? ""}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}
