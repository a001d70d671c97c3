// The E2B layer is a client of hostd's own REST API (docs/api.md): every E2B call becomes one
// or more /v1 calls over loopback, carrying the caller's own key. So ownership, tiers, caps and
// validation are exactly those of the REST API, and later REST features (contexts, rich
// results, processes) reach E2B clients without the E2B layer knowing hostd's internals.
import http from "node:http";
import type { Readable } from "node:stream";

export interface UpstreamCall {
  /** The caller's API key, forwarded as `Authorization: Bearer`; none when auth is off. */
  key: string | undefined;
  body?: unknown;
  /** A streamed body (file uploads); sent as is with `headers`. */
  stream?: Readable;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export class Upstream {
  // Keep-alive: an E2B call costs one loopback round trip, not a TCP handshake as well.
  private readonly agent = new http.Agent({ keepAlive: true, maxFreeSockets: 16 });

  constructor(private readonly host: string, private readonly port: number) {}

  /** The raw answer, for streams (exec NDJSON, downloads); the caller must consume or destroy it. */
  request(method: string, path: string, call: UpstreamCall): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { ...call.headers };
    if (call.key) headers.authorization = `Bearer ${call.key}`;
    let text: string | undefined;
    if (call.body !== undefined) {
      text = JSON.stringify(call.body);
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(text));
    }
    const send = (retry: boolean): Promise<http.IncomingMessage> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent, signal: call.signal }, resolve);
        req.on("error", (err: NodeJS.ErrnoException) => {
          // A kept-alive socket the REST server closed as we reused it (it closes after answering
          // a request it did not read, e.g. a 401): the request never arrived; send it again on
          // a fresh socket (Node's documented pattern). A streamed body cannot be sent twice.
          if (retry && req.reusedSocket && !call.stream && (err.code === "ECONNRESET" || err.message === "socket hang up")) resolve(send(false));
          else reject(err);
        });
        if (call.stream) {
          call.stream.on("error", (err) => req.destroy(err));
          call.stream.pipe(req);
        } else req.end(text);
      });
    return send(true);
  }

  /** A JSON (or empty) answer, read whole: only for small control-plane answers. */
  async json(method: string, path: string, call: UpstreamCall): Promise<JsonAnswer> {
    const res = await this.request(method, path, call);
    return { status: res.statusCode ?? 502, body: await readJson(res) };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Reads a small JSON answer; an empty one is null. */
export async function readJson(res: http.IncomingMessage, maxBytes = 8 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      res.destroy();
      throw new Error(`hostd's answer is over ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  if (total === 0) return null;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return { error: text };
  }
}

/** The loopback address to reach hostd on from itself, whatever it binds. */
export function loopbackFor(bindHost: string): string {
  if (bindHost === "0.0.0.0" || bindHost === "") return "127.0.0.1";
  if (bindHost === "::") return "::1";
  return bindHost;
}
