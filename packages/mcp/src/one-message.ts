// The body of a POST /mcp, read here (bounded) rather than by the SDK's transport, to refuse
// JSON-RPC batches: one batch of forty tool calls made hostd hold forty answers at once
// (outside tester tj). The protocol's 2025-06-18 revision has no batches; a client sends one
// message per request. Read as hostd reads any JSON body (BodyReader): within the caller's body
// budget and a time limit, and refused before parsing if it nests deeper than any message does
// (a 16 MiB `[[[…]]]` held hostd's event loop for seconds; outside tester ti).
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_JSON_DEPTH, PodflareError, nestsDeeperThan } from "@podflare/protocol";

export type Read = { ok: true; message: unknown } | { ok: false; status: number; code: number; message: string; headers?: Record<string, string> };

/**
 * Reads a whole body of at most `maxBytes` and hands it to `use`; throws a PodflareError
 * (payload_too_large, concurrency_limit, bad_request) when it will not. hostd passes its own,
 * which counts the bytes against the caller's share of the host's body budget.
 */
export type BodyReader = <T>(req: IncomingMessage, maxBytes: number, use: (body: Buffer) => T) => Promise<T>;

/**
 * Writes an answer to a request whose body may not have been read whole (a refused body), then
 * closes the connection. hostd passes its own, which reads and drops the rest of the body a
 * moment first: closing with bytes unread resets the connection, and the reset can reach the
 * client before the answer does.
 */
export type RefusalWriter = (res: ServerResponse, status: number, headers: Record<string, string>, text: string) => void;

/** Without hostd: the answer, then Node's own close. */
export const plainRefusalWriter: RefusalWriter = (res, status, headers, text) => {
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(text), connection: "close" }).end(text);
};

const BODY_TIMEOUT_MS = 30_000;

/** Without hostd: bounded by size and time only. */
export const plainBodyReader: BodyReader = async (req, maxBytes, use) => {
  const chunks: Buffer[] = [];
  let total = 0;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PodflareError("bad_request", `the request body did not arrive within ${BODY_TIMEOUT_MS} ms; send it at once`)), BODY_TIMEOUT_MS);
  });
  const collect = (async () => {
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) throw new PodflareError("payload_too_large", `request body is over ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
  })();
  try {
    await Promise.race([collect, late]);
  } finally {
    clearTimeout(timer);
    collect.catch(() => {});
  }
  return use(Buffer.concat(chunks, total));
};

export async function readOneMessage(req: IncomingMessage, maxBytes: number, read: BodyReader = plainBodyReader): Promise<Read> {
  try {
    return await read(req, maxBytes, parseOne);
  } catch (err) {
    if (!(err instanceof PodflareError)) throw err;
    if (err.code === "payload_too_large") {
      return { ok: false, status: 413, code: -32600, message: `the request body is over ${maxBytes} bytes; upload big files with the REST API (PUT /v1/sandboxes/:id/files)` };
    }
    return { ok: false, status: err.status, code: -32600, message: err.message, headers: err.headers };
  }
}

function parseOne(body: Buffer): Read {
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    return { ok: false, status: 400, code: -32700, message: `Parse error: the message nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays; no MCP message needs that many` };
  }
  let message: unknown;
  try {
    message = JSON.parse(body.toString("utf8"));
  } catch (err) {
    return { ok: false, status: 400, code: -32700, message: `Parse error: ${(err as Error).message}` };
  }
  if (Array.isArray(message)) {
    if (message.length !== 1) {
      return { ok: false, status: 400, code: -32600, message: `a JSON-RPC batch of ${message.length} messages: this server takes one message per request (MCP 2025-06-18 has no batches); send them one by one` };
    }
  }
  return { ok: true, message };
}
