// The body of a POST /mcp, read here (bounded) rather than by the SDK's transport, to refuse
// JSON-RPC batches: one batch of forty tool calls made hostd hold forty answers at once
// (outside tester tj). The protocol's 2025-06-18 revision has no batches; a client sends one
// message per request.
import type { IncomingMessage } from "node:http";

export type Read = { ok: true; message: unknown } | { ok: false; status: number; code: number; message: string };

export async function readOneMessage(req: IncomingMessage, maxBytes: number): Promise<Read> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      req.destroy();
      return { ok: false, status: 413, code: -32600, message: `the request body is over ${maxBytes} bytes; upload big files with the REST API (PUT /v1/sandboxes/:id/files)` };
    }
    chunks.push(chunk as Buffer);
  }
  let message: unknown;
  try {
    message = JSON.parse(Buffer.concat(chunks, total).toString("utf8"));
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
