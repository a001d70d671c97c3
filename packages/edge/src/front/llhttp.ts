// The HTTP/1.1 parser the edge's front uses: llhttp, the very parser Node's http module (and so
// hostd) runs, reached through Node's `_http_common`. Framing is then decided exactly as the
// origin decides it: a request the front reads as one message is one message at the origin too
// (no smuggling between two parsers that disagree). Node 20 has it; without it the edge serves
// through node:http alone (front-server.ts).
import { createRequire } from "node:module";

/** The callbacks' slots and the parser's kinds, as `_http_common` numbers them. */
interface ParserConstructor {
  new (): RawParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

interface RawParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | (Error & { code?: string; bytesParsed?: number });
  finish(): number | (Error & { code?: string });
  close(): void;
  [slot: number]: unknown;
}

/** What a parsed head says: rawHeaders alternate name, value, as the client wrote them. */
export interface ParsedHead {
  versionMajor: number;
  versionMinor: number;
  rawHeaders: string[];
  /** Requests: the method name; responses: "". */
  method: string;
  /** Requests: the target; responses: "". */
  url: string;
  /** Responses: the status; requests: 0. */
  status: number;
  statusMessage: string;
  upgrade: boolean;
  keepAlive: boolean;
}

export interface ParserEvents {
  /** Return true (responses to HEAD) when the message has no body whatever its headers say. */
  head(h: ParsedHead): boolean | void;
  body(chunk: Buffer): void;
  complete(): void;
}

let loaded: { Parser: ParserConstructor; methods: string[] } | null | undefined;

function load(): { Parser: ParserConstructor; methods: string[] } | null {
  if (loaded !== undefined) return loaded;
  try {
    const common = createRequire(import.meta.url)("_http_common") as { HTTPParser?: ParserConstructor; methods?: string[] };
    const P = common.HTTPParser;
    loaded = P && Array.isArray(common.methods) && typeof P.kOnHeadersComplete === "number" && typeof P.kOnBody === "number" ? { Parser: P, methods: common.methods } : null;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** Whether this Node has the parser (else the edge runs on node:http only). */
export function parserAvailable(): boolean {
  return load() !== null;
}

// Node's own limit for a head (an origin's answer), and hostd's for a request.
const MAX_HEAD_BYTES = 16 * 1024;
/**
 * A request's head: 1 KiB under hostd's, so what the edge adds on the way (X-Forwarded-For, a
 * region's base path) still fits; a head that fit here and not at hostd was answered 431 by the
 * origin and a request pipelined behind it dropped (outside tester tn).
 */
export const MAX_REQUEST_HEAD_BYTES = MAX_HEAD_BYTES - 1024;

/** One direction of one connection: feed it bytes, it calls back per message. */
export class HttpParser {
  private readonly raw: RawParser;
  // Heads over 32 header lines arrive in pieces (kOnHeaders) before kOnHeadersComplete.
  private pendingHeaders: string[] = [];
  private pendingUrl = "";

  constructor(kind: "request" | "response", events: ParserEvents) {
    const lib = load();
    if (!lib) throw new Error("this Node has no llhttp parser in _http_common");
    const { Parser, methods } = lib;
    this.raw = new Parser();
    this.raw.initialize(kind === "request" ? Parser.REQUEST : Parser.RESPONSE, {}, kind === "request" ? MAX_REQUEST_HEAD_BYTES : MAX_HEAD_BYTES, 0);
    this.raw[Parser.kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.pendingHeaders.push(h);
      this.pendingUrl += url;
    };
    this.raw[Parser.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      status: number | undefined,
      statusMessage: string | undefined,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      const rawHeaders = headers ?? this.pendingHeaders;
      const target = url ?? this.pendingUrl;
      this.pendingHeaders = [];
      this.pendingUrl = "";
      const skipBody = events.head({
        versionMajor,
        versionMinor,
        rawHeaders,
        method: method === undefined ? "" : (methods[method] ?? ""),
        url: target,
        status: status ?? 0,
        statusMessage: statusMessage ?? "",
        upgrade,
        keepAlive,
      });
      return skipBody ? 1 : 0;
    };
    this.raw[Parser.kOnBody] = (chunk: Buffer) => events.body(chunk);
    this.raw[Parser.kOnMessageComplete] = () => events.complete();
  }

  /** Bytes parsed (fewer than given after an upgrade head), or the parse error. */
  execute(data: Buffer): number | (Error & { code?: string }) {
    return this.raw.execute(data);
  }

  /** The peer closed: completes a message whose end is the connection's end. */
  finish(): void {
    this.raw.finish();
  }

  close(): void {
    this.raw.close();
  }
}
