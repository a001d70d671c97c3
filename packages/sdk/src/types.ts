// The SDK's own (camelCase) shapes, and their mapping to and from the snake_case wire.

import type { ExecError, Result } from "./results.js";
import type * as wire from "./wire.js";

/** A REPL context: pass it (or its id) as `runCode(code, "python", { context })`. */
export interface Context {
  id: string;
  language: "python";
  cwd: string | null;
}

export type { Language, SandboxState } from "./wire.js";

/** Where and how to reach the API. Every field falls back to the environment. */
export interface ConnectionOptions {
  /**
   * Base URL of the server, e.g. "http://127.0.0.1:7070": an edge (`podflare edge`) or one
   * hostd, talked to directly (an origin's URL bypasses any edge). Default:
   * `PODFLARE_HOSTD_URL`, else `PODFLARE_HOST`, else http://127.0.0.1:7070.
   */
  host?: string;
  /**
   * Region to create or resume in, e.g. "us-west": sent as `region` in the create/resume
   * body and as the X-Podflare-Region header: an edge creates there, a hostd must be that
   * region (else {@link RegionUnknownError}). Ids route by themselves afterwards; a call for
   * a sandbox whose region is down raises {@link RegionUnavailableError}.
   */
  region?: string;
  /** API key sent as `Authorization: Bearer`. Default: `PODFLARE_API_KEY`; omitted when neither is set. */
  apiKey?: string;
  /**
   * Client-side request timeout: the most the SDK waits while the server is silent before
   * throwing {@link TimeoutError}. Default 60 000. An exec without its own `timeoutMs`
   * waits as long as the code runs; with one, it waits `timeoutMs` plus this.
   */
  timeoutMs?: number;
  /** W3C Trace Context sent as the `traceparent` header. Default: `PODFLARE_TRACEPARENT`. */
  traceparent?: string;
}

/** Options of `Sandbox.create`: the connection plus what the sandbox should be. */
export interface SandboxOptions extends ConnectionOptions {
  /** Template name; the server's default when omitted. */
  template?: string;
  /** Freeze to a Space when idle instead of closing. */
  persistent?: boolean;
  /** Network access out of the sandbox (server default: true). */
  egress?: boolean;
  memoryMb?: number;
  diskMb?: number;
  vcpus?: number;
  /** Seconds without an API call before the sandbox is closed (or frozen, if persistent). */
  idleTimeoutS?: number;
  /** The same, as the hosted docs' examples spell it (`idle_timeout_seconds`). */
  idleTimeoutSeconds?: number;
  maxLifetimeS?: number;
  /** Environment for every exec in the sandbox. */
  env?: Record<string, string>;
  /** Free-form labels, returned by `info()` and `Sandbox.listSandboxes()`. */
  metadata?: Record<string, string>;
  /** Egress policy (needs egress): IPv4 CIDRs or domain names; `denyOut` wins. */
  network?: NetworkPolicy;
}

/** Egress policy. Without `allowOut` (or null) everything not denied may be reached. */
export interface NetworkPolicy {
  allowOut?: string[] | null;
  denyOut?: string[] | null;
}

/** A sandbox's network as the server reports it. */
export interface NetworkInfo {
  egress: boolean;
  /** The sandbox's IPv4 address (eth0), null without egress. */
  address: string | null;
  allowOut: string[] | null;
  denyOut: string[];
}

/** The limits a sandbox actually runs with, after defaults and tier caps. */
export interface AppliedLimits {
  memoryMb: number;
  diskMb: number;
  vcpus: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
  egress: boolean;
  persistent: boolean;
}

export interface RunOptions {
  /** Interrupt the code after this long; the exec then ends with exit code 124 and the REPL keeps its state. */
  timeoutMs?: number;
  /** Extra environment for this call. */
  env?: Record<string, string>;
  /** Working directory for this call. */
  cwd?: string;
  /** The REPL context to run in (`createContext`); default: the sandbox's default context. */
  context?: Context | string;
  /** Called with each rich result (python) as it arrives, before runCode resolves. */
  onResult?: (result: Result) => void;
  /** Called with the exception of a python exec, once, after its traceback on stderr. */
  onError?: (error: ExecError) => void;
  /**
   * runCodeStream: also yield python's `result` and `error` events (off by default: a loop
   * written for the hosted API takes every event but `exit` for output). runCode always has them.
   */
  results?: boolean;
  /**
   * Aborting it drops the exec's connection, and hostd interrupts the code as on a timeout;
   * the call then rejects with the signal's reason (an `AbortError` by default).
   */
  signal?: AbortSignal;
}

export interface FileEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  mtimeMs: number;
}

export interface SandboxInfo {
  id: string;
  state: wire.SandboxState;
  template: string;
  createdAt: string;
  lastActiveAt: string;
  applied: AppliedLimits;
  metadata: Record<string, string>;
  parentId: string | null;
  network: NetworkInfo | null;
}

/** What `diff` returns: paths relative to nothing (absolute), sorted. */
export interface DiffResult {
  /** Present in the other sandbox only. */
  added: string[];
  /** Present in this sandbox only. */
  removed: string[];
  /** Present in both with different content (or size and mtime, for files over 1 MB). */
  modified: string[];
}

/** SDK option name → wire field name, for every create field that differs. */
export const createFieldNames = {
  template: "template",
  persistent: "persistent",
  egress: "egress",
  memoryMb: "memory_mb",
  diskMb: "disk_mb",
  vcpus: "vcpus",
  idleTimeoutS: "idle_timeout_s",
  maxLifetimeS: "max_lifetime_s",
  env: "env",
  metadata: "metadata",
  network: "network",
  region: "region",
} as const satisfies Record<string, keyof wire.CreateSandboxRequest>;

/** Builds the create body: camelCase to snake_case, undefined fields left out. */
export function toCreateRequest(opts: SandboxOptions): wire.CreateSandboxRequest {
  const body: Record<string, unknown> = {};
  for (const [camel, snake] of Object.entries(createFieldNames)) {
    const value = (opts as Record<string, unknown>)[camel];
    if (value !== undefined) body[snake] = camel === "network" ? toNetworkPolicy(value as NetworkPolicy) : value;
  }
  if (opts.idleTimeoutSeconds !== undefined) {
    if (opts.idleTimeoutS !== undefined && opts.idleTimeoutS !== opts.idleTimeoutSeconds) {
      throw new TypeError("Sandbox.create: idleTimeoutS and idleTimeoutSeconds are the same option; give one");
    }
    body.idle_timeout_s = opts.idleTimeoutSeconds;
  }
  return body as wire.CreateSandboxRequest;
}

/** "idle_timeout_s" → "idleTimeoutS"; names the server adds later convert the same way. */
export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function fromApplied(a: wire.AppliedLimits | undefined): AppliedLimits | undefined {
  if (!a || typeof a !== "object") return undefined;
  return {
    memoryMb: a.memory_mb,
    diskMb: a.disk_mb,
    vcpus: a.vcpus,
    idleTimeoutS: a.idle_timeout_s,
    maxLifetimeS: a.max_lifetime_s,
    egress: a.egress,
    persistent: a.persistent,
  };
}

export function toNetworkPolicy(p: NetworkPolicy): wire.NetworkPolicy {
  const out: wire.NetworkPolicy = {};
  if (p.allowOut !== undefined) out.allow_out = p.allowOut;
  if (p.denyOut !== undefined) out.deny_out = p.denyOut;
  return out;
}

export function fromNetworkInfo(n: wire.NetworkInfo | undefined): NetworkInfo | null {
  if (!n || typeof n !== "object") return null;
  return { egress: n.egress, address: n.address ?? null, allowOut: n.allow_out ?? null, denyOut: n.deny_out ?? [] };
}

export function fromFileEntry(e: wire.FileEntry): FileEntry {
  return { name: e.name, type: e.type, size: e.size, mode: e.mode, mtimeMs: e.mtime_ms };
}

export function fromSandboxInfo(s: wire.SandboxInfo): SandboxInfo {
  return {
    id: s.id,
    state: s.state,
    template: s.template,
    createdAt: s.created_at,
    lastActiveAt: s.last_active_at,
    applied: fromApplied(s.applied) as AppliedLimits,
    metadata: s.metadata ?? {},
    parentId: s.parent_id ?? null,
    network: fromNetworkInfo(s.network),
  };
}
