// hostd's REST API called from inside hostd (the E2B layer's way to the API): a request goes
// through the very routes, authentication (the `Authorization: Bearer` key it carries),
// validation and error answers that serve HTTP clients (routeRequest in server.ts), but as
// in-memory streams instead of a loopback socket: no HTTP encoding, parsing or syscalls.
// The request and response stand in for Node's own, with what the routes use of them.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import type { CreateSandboxResponse } from "@podflare/protocol";
import { LOCAL_OWNER, type Authenticator, type Principal } from "../auth/authenticator.js";
import { hashKey } from "../auth/keys.js";
import type { ExecCall, ExecSink } from "./exec-routes.js";
import { sendError } from "./http.js";
import { checkedSandboxId, type Route } from "./route.js";
import type { CreateCall } from "./sandbox-routes.js";
import { routeRequest } from "./server.js";

/** The calls the hot paths make without a request: what their REST routes run after routing. */
export interface LocalCalls {
  exec: ExecCall;
  create: CreateCall;
}

export interface ApiCall {
  /** The caller's API key, sent as `Authorization: Bearer`; none: no credentials. */
  key: string | undefined;
  /** A JSON body. */
  body?: unknown;
  /** A streamed body (file uploads), sent as is with `headers`. */
  stream?: Readable;
  headers?: Record<string, string>;
  /** Aborting it closes the call like a client hanging up (an exec is interrupted). */
  signal?: AbortSignal;
}

/** An answer: its status and headers, and its body to read (or destroy). */
export type ApiAnswer = Readable & { readonly statusCode: number; readonly headers: Readonly<Record<string, string>> };

export interface JsonAnswer {
  status: number;
  body: unknown;
}

// Key owners remembered for the request log (keyIdOf); cleared when full.
const MAX_REMEMBERED_OWNERS = 4096;

export class LocalApi {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly routes: Route[],
    private readonly auth: Authenticator,
    private readonly log: (msg: string) => void,
    private readonly calls: LocalCalls,
  ) {}

  /** POST /v1/sandboxes for the hot path (E2B's Sandbox.create): the route's own checks. */
  create(key: string | undefined, body: Record<string, unknown>): Promise<CreateSandboxResponse> {
    return this.calls.create(this.principal(key), NO_HEADERS, asJson(body));
  }

  /**
   * POST /v1/sandboxes/:id/exec with its events as objects, for the hot path (E2B's runCode):
   * the route's own authentication, ownership check and validation (exec-routes.ts), without
   * NDJSON in between. `body` is taken as JSON would carry it.
   */
  async exec(key: string | undefined, id: string, body: Record<string, unknown>, sink: ExecSink): Promise<void> {
    const principal = this.principal(key);
    const json = asJson(body);
    await this.calls.exec(principal.owner, checkedSandboxId(id), () => Promise.resolve(json), sink);
  }

  /**
   * The key's owner as the request log names it (key_id), or undefined for a key that is not
   * valid: for logging only, every call still authenticates. Once keys are required, a key's
   * owner never changes, so it is remembered by the key's hash (a bounded map).
   */
  keyIdOf(key: string | undefined): string | undefined {
    if (!this.auth.enabled()) return LOCAL_OWNER;
    if (key === undefined) return undefined;
    const h = hashKey(key);
    let owner = this.owners.get(h);
    if (owner === undefined) {
      try {
        owner = this.principal(key).owner;
      } catch {
        return undefined;
      }
      if (this.owners.size >= MAX_REMEMBERED_OWNERS) this.owners.clear();
      this.owners.set(h, owner);
    }
    return owner;
  }

  /**
   * The key's owner, or the REST API's 401 when the key may not call hostd: checked before a
   * request's body is read, as the REST routes do, so a caller with no valid key makes hostd read nothing.
   */
  authenticate(key: string | undefined): string {
    return this.principal(key).owner;
  }

  /** Who the key is, by the same Authenticator the HTTP routes use (it throws a 401). */
  private principal(key: string | undefined): Principal {
    const headers: IncomingHttpHeaders = key === undefined ? {} : { authorization: `Bearer ${key}` };
    return this.auth.principal({ headers } as IncomingMessage);
  }

  /** Resolves with the answer once its status and headers are written; its body follows. */
  request(method: string, path: string, call: ApiCall): Promise<ApiAnswer> {
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
    if (call.key !== undefined) headers.authorization = `Bearer ${call.key}`;
    let text: string | undefined;
    if (call.body !== undefined) {
      text = JSON.stringify(call.body);
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(text));
    }
    const req = new LocalRequest(method, path, headers);
    return new Promise<ApiAnswer>((resolve, reject) => {
      const res = new LocalResponse(req, () => resolve(res));
      // A response destroyed before its head (no answer at all) fails the call, as a reset would.
      res.once("close", () => reject(new Error(`${method} ${path} closed without an answer`)));
      const { signal } = call;
      if (signal) {
        const abort = () => {
          const err = new Error("the call was aborted");
          reject(err);
          res.destroy(err);
          req.destroy();
        };
        if (signal.aborted) return abort();
        signal.addEventListener("abort", abort, { once: true });
        res.once("close", () => signal.removeEventListener("abort", abort));
      }
      if (call.stream) {
        call.stream.once("error", (err) => req.destroy(err));
        call.stream.pipe(req);
      } else req.end(text);
      // Answered as the HTTP server answers a failed route: the error envelope, or a cut stream.
      routeRequest(this.routes, this.auth, req as unknown as IncomingMessage, res as unknown as ServerResponse).catch((err: unknown) =>
        sendError(res as unknown as ServerResponse, err, this.log),
      );
    });
  }

  /** A JSON (or empty) answer, read whole: only for small answers. */
  async json(method: string, path: string, call: ApiCall): Promise<JsonAnswer> {
    const answer = await this.request(method, path, call);
    return { status: answer.statusCode, body: await readJson(answer) };
  }
}

const NO_HEADERS = { headers: {} } as IncomingMessage;

/** A body as JSON would carry it (undefined fields dropped), as a route would have read it. */
function asJson(body: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
}

/** Reads a small JSON answer; an empty one is null, a non-JSON one `{error: <text>}`. */
export async function readJson(answer: Readable, maxBytes = 8 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of answer) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.length;
    if (total > maxBytes) {
      answer.destroy();
      throw new Error(`hostd's answer is over ${maxBytes} bytes`);
    }
    chunks.push(b);
  }
  if (total === 0) return null;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return { error: text };
  }
}

/** The request a route reads: its method, URL, headers and body stream. */
class LocalRequest extends PassThrough {
  /** The whole body has arrived (IncomingMessage's meaning). */
  complete = false;
  readonly socket = null;

  constructor(readonly method: string, readonly url: string, readonly headers: IncomingHttpHeaders) {
    super();
    this.once("finish", () => (this.complete = true));
    // A body that fails (a multipart part cut short) may do so before the route listens: the
    // route finds it in `errored`, as runtime/files.ts does, and nothing goes uncaught.
    this.on("error", () => {});
  }
}

/**
 * The response a route writes: writeHead/setHeader record the head and hand the answer to the
 * caller; the body passes through with the stream's own backpressure (a route's write returns
 * false, and `drain` follows, as fast as the caller reads).
 */
class LocalResponse extends PassThrough {
  statusCode = 200;
  headersSent = false;
  /** Node's body-length check of HTTP responses; the caller applies its own (e2b/envd.ts). */
  strictContentLength = false;
  readonly socket = null;
  readonly headers: Record<string, string> = {};

  constructor(readonly req: LocalRequest, private readonly onHead: () => void) {
    super();
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  /** writeHead(status, headers?) or writeHead(status, statusMessage, headers?). */
  writeHead(status: number, a?: unknown, b?: unknown): this {
    const headers = (typeof a === "object" && a !== null ? a : b) as Record<string, number | string | string[]> | undefined;
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
    this.sendHead();
    return this;
  }

  flushHeaders(): void {
    this.sendHead();
  }

  // A body written without writeHead goes out with the status and headers set so far.
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    this.sendHead();
    return super.write(chunk, encoding as BufferEncoding, cb as (err?: Error | null) => void);
  }

  override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
    this.sendHead();
    return super.end(chunk, encoding as BufferEncoding, cb as () => void);
  }

  private sendHead(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.onHead();
  }
}
