// Calls about the caller's key rather than one sandbox: the sandboxes it can see and its usage.

import { ProtocolError } from "./errors.js";
import { httpFor, type ClientOption } from "./client.js";
import { fromSandboxInfo, type ConnectionOptions, type SandboxInfo } from "./types.js";
import type * as wire from "./wire.js";

/** What `Sandbox.usage()` returns: the calling key's totals, running sandboxes counted up to now. */
export interface Usage {
  /** Whose usage this is (the key's owner). */
  owner: string;
  sandboxesCreated: number;
  sandboxSeconds: number;
  /** Sandbox-seconds weighted by memory, in GB. */
  gbSeconds: number;
  execs: number;
  forks: number;
}

// GET /v1/usage's body (hostd's UsageReport); not in the wire copy, which holds the shared REST shapes.
interface WireUsage {
  owner: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

export async function listSandboxes(opts: ConnectionOptions & ClientOption): Promise<SandboxInfo[]> {
  const http = httpFor(opts);
  const res = await http.json<wire.ListSandboxesResponse>("GET", "/v1/sandboxes");
  return (res?.sandboxes ?? []).map(fromSandboxInfo);
}

export async function usage(opts: ConnectionOptions & ClientOption): Promise<Usage> {
  const http = httpFor(opts);
  const res = await http.json<WireUsage>("GET", "/v1/usage");
  if (!res || typeof res.owner !== "string") throw new ProtocolError("GET /v1/usage answered without an owner");
  const n = (v: unknown): number => (typeof v === "number" ? v : 0);
  return {
    owner: res.owner,
    sandboxesCreated: n(res.sandboxes_created),
    sandboxSeconds: n(res.sandbox_seconds),
    gbSeconds: n(res.gb_seconds),
    execs: n(res.execs),
    forks: n(res.forks),
  };
}
