// Streamable HTTP sessions, for hostd's /mcp route. Each session has its own McpServer,
// transport and SandboxSession; it ends on DELETE, after an idle timeout, or when hostd stops.
// Sessions are bounded per owner and per host, reserved before the initialize is served.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { PodflareError, newTaggedId } from "@podflare/protocol";
import type { ConnectionOptions } from "podflare";
import { idleSessions, sweepPeriodMs } from "./idle.js";
import { createMcpServer } from "./server.js";
import { SandboxSession } from "./session.js";
import { OwnerSlots } from "./owner-slots.js";
import { plainBodyReader, plainRefusalWriter, readOneMessage, type BodyReader, type Read, type RefusalWriter } from "./one-message.js";

export interface McpHttpLimits {
  /** A session without a request for this long ends, and its sandboxes close (PODFLARE_MCP_IDLE_TIMEOUT_S). */
  idleTimeoutS: number;
  /** Open sessions at most on this host, and per owner (PODFLARE_MCP_MAX_SESSIONS[_PER_KEY]). */
  maxSessions: number;
  maxSessionsPerOwner: number;
  /** Largest JSON-RPC request body (an upload's base64 travels in one). */
  maxBodyBytes: number;
  /** This hostd's region tag: session ids carry it (`mcp_<tag>…`), so an edge keeps a session in its region. */
  regionTag?: string;
}

/** Who is calling, as hostd authenticated them, and how their session reaches hostd. */
export interface McpCaller {
  owner: string;
  /** Used by the session's SDK client: hostd's own address and the caller's key. */
  connection: ConnectionOptions;
  /** Base URL as the caller reaches hostd, for port_url. */
  publicUrl: string;
}

interface Entry {
  id: string;
  owner: string;
  session: SandboxSession;
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastActiveMs: number;
  inFlight: number;
  /** Answers under way: ended with the session, which cannot deliver them any more. */
  open: Set<ServerResponse>;
}

export class McpHttpSessions {
  readonly #limits: McpHttpLimits;
  readonly #log: (msg: string) => void;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Entry>();
  /** Initializations under way, per owner: they count against the caps before they have an id. */
  readonly #starting = new Map<string, number>();
  #startingTotal = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #slots = new OwnerSlots();

  readonly #readBody: BodyReader;
  readonly #answerRefused: RefusalWriter;

  /**
   * readBody: how a request's body is read (hostd's counts it against the caller's body budget);
   * answerRefused: how a refused body is answered (hostd's drains the rest before it closes).
   */
  constructor(limits: McpHttpLimits, log: (msg: string) => void, opts: { now?: () => number; readBody?: BodyReader; answerRefused?: RefusalWriter } = {}) {
    const now = opts.now ?? Date.now;
    this.#readBody = opts.readBody ?? plainBodyReader;
    this.#answerRefused = opts.answerRefused ?? plainRefusalWriter;
    this.#limits = limits;
    this.#log = log;
    this.#now = now;
    this.#timer = setInterval(() => this.#sweep(), sweepPeriodMs(limits.idleTimeoutS * 1000));
    this.#timer.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Calls waiting for one of their key's slots (owner-slots.ts). */
  get callsWaiting(): number {
    return this.#slots.waiting();
  }

  /** Serves one request to /mcp from an authenticated caller. */
  async handle(req: IncomingMessage, res: ServerResponse, caller: McpCaller): Promise<void> {
    if (req.method === "GET") {
      // No server-initiated messages: no standalone SSE stream to hold open (the spec's 405).
      throw new PodflareError("method_not_allowed", "GET /mcp: this server sends no server-initiated messages; send requests with POST /mcp", { allow: "POST, DELETE" });
    }
    const raw = req.headers["mcp-session-id"];
    const sid = Array.isArray(raw) ? raw[0] : raw;
    if (sid !== undefined) return this.#onSession(sid, req, res, caller);
    if (req.method !== "POST") {
      throw new PodflareError("bad_request", `${req.method} /mcp needs an Mcp-Session-Id header; start a session with POST /mcp (initialize)`);
    }
    return this.#start(req, res, caller);
  }

  /** Ends every session (hostd is stopping): their sandboxes close. */
  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#sessions.values()].map((e) => this.#end(e, "hostd is stopping")));
  }

  async #onSession(sid: string, req: IncomingMessage, res: ServerResponse, caller: McpCaller): Promise<void> {
    const entry = this.#sessions.get(sid);
    // Another owner's session answers as an unknown one: ids are not a way to probe.
    if (!entry || entry.owner !== caller.owner) {
      throw new PodflareError(
        "mcp_session_not_found",
        `MCP session ${JSON.stringify(sid.slice(0, 64))} not found: it was ended (DELETE), timed out after ${this.#limits.idleTimeoutS} s without a request, or belongs to another key; initialize a new session`,
      );
    }
    if (req.method === "DELETE") {
      await this.#end(entry, "ended by the client (DELETE)");
      res.writeHead(204);
      res.end();
      return;
    }
    // Busy until the answer is written or the client hangs up: the SDK writes nothing for a
    // call the client cancelled, and a session counted busy for good would never time out.
    entry.inFlight++;
    entry.lastActiveMs = this.#now();
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      entry.inFlight--;
      entry.lastActiveMs = this.#now();
    };
    res.once("close", done);
    entry.open.add(res);
    res.once("close", () => entry.open.delete(res));
    try {
      // A slot of the key's before the body is read: a waiting call holds nothing but its socket.
      const gone = new AbortController();
      res.once("close", () => gone.abort());
      let release: () => void;
      try {
        release = await this.#slots.acquire(caller.owner, gone.signal);
      } catch {
        return; // the client went away while its call waited
      }
      res.once("close", release);
      const read = await readOneMessage(req, this.#limits.maxBodyBytes, this.#readBody);
      if (!read.ok) return this.#answerRpcError(res, read);
      await entry.transport.handleRequest(req, res, read.message);
    } finally {
      done();
    }
  }

  async #start(req: IncomingMessage, res: ServerResponse, caller: McpCaller): Promise<void> {
    this.#reserve(caller.owner);
    let reserved = true;
    const release = (): void => {
      if (!reserved) return;
      reserved = false;
      this.#startingTotal--;
      const n = (this.#starting.get(caller.owner) ?? 1) - 1;
      if (n > 0) this.#starting.set(caller.owner, n);
      else this.#starting.delete(caller.owner);
    };
    const session = new SandboxSession({ connection: caller.connection, publicUrl: caller.publicUrl, log: this.#log });
    const server = createMcpServer(session);
    let entry: Entry | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => newTaggedId("mcp", this.#limits.regionTag),
      // Answers as plain JSON: no SSE stream stays open between or after calls.
      enableJsonResponse: true,
      maxRequestBodySize: this.#limits.maxBodyBytes,
      onsessioninitialized: (id) => {
        release();
        entry = { id, owner: caller.owner, session, server, transport, lastActiveMs: this.#now(), inFlight: 0, open: new Set() };
        this.#sessions.set(id, entry);
      },
    });
    try {
      await server.connect(transport);
      const read = await readOneMessage(req, this.#limits.maxBodyBytes, this.#readBody);
      if (read.ok) await transport.handleRequest(req, res, read.message);
      else this.#answerRpcError(res, read);
    } finally {
      release();
    }
    if (!entry) {
      // Not an initialize (the transport answered 400): nothing to keep.
      await server.close();
      await session.end();
    }
  }

  #reserve(owner: string): void {
    const { maxSessions, maxSessionsPerOwner } = this.#limits;
    let mine = this.#starting.get(owner) ?? 0;
    for (const e of this.#sessions.values()) if (e.owner === owner) mine++;
    if (mine >= maxSessionsPerOwner) {
      throw new PodflareError(
        "mcp_session_limit",
        `this key has ${mine} open MCP sessions, the most allowed (PODFLARE_MCP_MAX_SESSIONS_PER_KEY=${maxSessionsPerOwner}); end one with DELETE /mcp or wait for an idle one to time out (${this.#limits.idleTimeoutS} s)`,
      );
    }
    if (this.#sessions.size + this.#startingTotal >= maxSessions) {
      throw new PodflareError(
        "mcp_session_limit",
        `this host has ${maxSessions} open MCP sessions, the most allowed (PODFLARE_MCP_MAX_SESSIONS); try again later`,
      );
    }
    this.#starting.set(owner, (this.#starting.get(owner) ?? 0) + 1);
    this.#startingTotal++;
  }

  #sweep(): void {
    const ids = idleSessions(this.#sessions.values(), this.#now(), this.#limits.idleTimeoutS * 1000);
    for (const id of ids) {
      const e = this.#sessions.get(id);
      if (e) void this.#end(e, `idle for ${this.#limits.idleTimeoutS} s`);
    }
  }

  async #end(entry: Entry, why: string): Promise<void> {
    if (this.#sessions.get(entry.id) !== entry) return;
    this.#sessions.delete(entry.id);
    this.#log(`mcp: session ${entry.id} ${why}; closing its sandboxes`);
    try {
      await entry.session.end();
    } catch (err) {
      this.#log(`mcp: session ${entry.id}: ${(err as Error).message}`);
    }
    await entry.server.close().catch(() => undefined);
    // A call still running when the session ended gets no answer from the SDK: end it here.
    for (const res of entry.open) {
      if (res.headersSent) res.end();
      else {
        const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: `the MCP session ended (${why}) while this call ran; what it made is closed` } });
        res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
      }
    }
  }

  /** A body refused before the transport saw it: a JSON-RPC error, and the connection closed. */
  #answerRpcError(res: ServerResponse, read: Extract<Read, { ok: false }>): void {
    const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: read.code, message: read.message } });
    this.#answerRefused(res, read.status, { ...read.headers, "content-type": "application/json" }, body);
  }
}
