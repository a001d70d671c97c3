// What envd's Connect-RPC methods share: their types, REST calls mapped to Connect errors, and
// NDJSON streams read line by line.
import { ConnectError, type ConnectStream, connectErrorFromRest } from "./connect-rpc.js";
import type { SandboxCall } from "./envd.js";
import { readJson, type ApiAnswer, type LocalApi } from "../api/local-api.js";

export interface RpcCall {
  ctx: SandboxCall;
  api: LocalApi;
  message: Record<string, unknown>;
  /** Aborted when the client hangs up: the API streams opened for it are closed. */
  signal: AbortSignal;
}

export type RpcMethod =
  | { kind: "unary"; handle(call: RpcCall): Promise<unknown> }
  | { kind: "stream"; keepalive: unknown; handle(call: RpcCall, out: ConnectStream): Promise<void> };

/** A small JSON REST call; a non-2xx answer becomes the Connect error for it. */
export async function rest(call: RpcCall, method: string, path: string, body?: unknown): Promise<unknown> {
  const answer = await call.api.json(method, path, { key: call.ctx.key, body, signal: call.signal });
  if (answer.status < 200 || answer.status >= 300) throw connectErrorFromRest(answer.status, answer.body);
  return answer.body;
}

/** Opens an NDJSON REST stream; a non-200 answer becomes the Connect error for it. */
export async function restStream(call: RpcCall, path: string): Promise<ApiAnswer> {
  const up = await call.api.request("GET", path, { key: call.ctx.key, signal: call.signal });
  if (up.statusCode !== 200) throw connectErrorFromRest(up.statusCode, await readJson(up));
  return up;
}

/** The lines of an NDJSON stream, parsed; ends when the stream does. */
export async function* ndjson(up: ApiAnswer): AsyncGenerator<Record<string, unknown>> {
  let rest = "";
  up.setEncoding("utf8");
  for await (const chunk of up) {
    rest += chunk as string;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  if (rest.trim()) yield JSON.parse(rest) as Record<string, unknown>;
}

export function sandboxPath(ctx: SandboxCall, rest: string): string {
  return `/v1/sandboxes/${encodeURIComponent(ctx.sandboxId)}${rest}`;
}

export function stringField(message: Record<string, unknown>, name: string, what: string): string {
  const v = message[name];
  if (typeof v !== "string" || v === "") throw new ConnectError("invalid_argument", `${name} is required: ${what}`);
  return v;
}
