// /mcp: MCP over Streamable HTTP, on the API's port and behind the API's auth. A session's
// tools call this same hostd through the TypeScript SDK, on the address the request came in
// on and with the caller's own Authorization header, so every tool call passes the same auth,
// ownership checks, tiers and caps as a REST call: one implementation of the tools, the
// stdio server's.
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerKey } from "@podflare/protocol";
import type { McpCaller, McpHttpLimits, McpHttpSessions } from "@podflare/mcp";
import { JSON_BODY_TIMEOUT_MS, answerThenClose, withBody } from "./http.js";
import type { Route, RouteContext } from "./routes.js";

/** The MCP sessions, loaded on the first /mcp request: the MCP SDK adds ~0.3 s to hostd's start. */
export class LazyMcp {
  #sessions: Promise<McpHttpSessions> | undefined;
  #loaded: McpHttpSessions | undefined;

  constructor(
    private readonly limits: McpHttpLimits,
    private readonly log: (msg: string) => void,
  ) {}

  sessions(): Promise<McpHttpSessions> {
    // Bodies are read as REST bodies are: counted against the caller's share of the body budget,
    // and a refused one answered as a REST refusal is (the rest drained, then closed).
    const readBody = <T>(req: IncomingMessage, maxBytes: number, use: (body: Buffer) => T): Promise<T> => withBody(req, maxBytes, JSON_BODY_TIMEOUT_MS, use);
    const answerRefused = (res: ServerResponse, status: number, headers: Record<string, string>, text: string): void => answerThenClose(res, status, headers, text);
    this.#sessions ??= import("@podflare/mcp").then((m) => (this.#loaded = new m.McpHttpSessions(this.limits, this.log, { readBody, answerRefused })));
    return this.#sessions;
  }

  /** MCP calls waiting for one of their key's slots (0 before /mcp was first used). */
  callsWaiting(): number {
    return this.#loaded?.callsWaiting ?? 0;
  }

  /** Ends every session (hostd is stopping); nothing to do when /mcp was never used. */
  async closeAll(): Promise<void> {
    if (this.#sessions) await (await this.#sessions).closeAll();
  }
}

export function mcpRoutes(mcp: LazyMcp): Route[] {
  const handle = async (ctx: RouteContext): Promise<void> => (await mcp.sessions()).handle(ctx.req, ctx.res, callerOf(ctx));
  return ["POST", "GET", "DELETE"].map((method) => ({ method, pattern: /^\/mcp\/?$/, auth: true, handle }));
}

function callerOf(ctx: RouteContext): McpCaller {
  const self = ownAddress(ctx.req);
  const key = bearerKey(ctx.req.headers.authorization);
  return {
    owner: ctx.principal.owner,
    // "" (not undefined): never fall back to a PODFLARE_API_KEY in hostd's own environment.
    connection: { host: self, apiKey: key ?? "" },
    publicUrl: ctx.req.headers.host ? `http://${ctx.req.headers.host}` : self,
  };
}

/** hostd's own listening address, as this request reached it (loopback or not). */
function ownAddress(req: IncomingMessage): string {
  const addr = (req.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  return `http://${addr.includes(":") ? `[${addr}]` : addr}:${req.socket.localPort}`;
}
