// REPL contexts (docs/api.md, "Contexts"): each its own `__main__` namespace, and optionally
// the directory its cells start in, in one sandbox. The Sandbox methods call these.

import type { HttpClient } from "./http.js";
import { ProtocolError } from "./errors.js";
import type * as wire from "./wire.js";

import type { Context } from "./types.js";

export type { Context };

export function contextIdOf(context: Context | string): string {
  return typeof context === "string" ? context : context.id;
}

function toContext(v: wire.ContextInfo | undefined, what: string): Context {
  if (!v || typeof v.id !== "string") throw new ProtocolError(`${what}: the answer has no context`);
  return { id: v.id, language: "python", cwd: v.cwd ?? null };
}

export async function createContext(http: HttpClient, base: string, opts: { cwd?: string }): Promise<Context> {
  const body: wire.CreateContextRequest = opts.cwd !== undefined ? { cwd: opts.cwd } : {};
  return toContext(await http.json<wire.ContextInfo>("POST", `${base}/contexts`, { json: body }), "create context");
}

export async function listContexts(http: HttpClient, base: string): Promise<Context[]> {
  const res = await http.json<wire.ListContextsResponse>("GET", `${base}/contexts`);
  return (res?.contexts ?? []).map((c) => toContext(c, "list contexts"));
}

export async function restartContext(http: HttpClient, base: string, context: Context | string): Promise<Context> {
  const id = encodeURIComponent(contextIdOf(context));
  return toContext(await http.json<wire.ContextInfo>("POST", `${base}/contexts/${id}/restart`), "restart context");
}

export async function deleteContext(http: HttpClient, base: string, context: Context | string): Promise<void> {
  await http.request("DELETE", `${base}/contexts/${encodeURIComponent(contextIdOf(context))}`);
}
