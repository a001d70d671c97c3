// Request validation: every wrong field gets a 400 that names the field and what it takes.
import {
  PodflareError,
  languages,
  limits,
  type CreateKeyRequest,
  type CreateSandboxRequest,
  type ExecRequest,
  type Language,
  type NetworkPolicy,
  type SetNetworkRequest,
} from "@podflare/protocol";
import { isTierName, tierNames } from "../auth/tiers.js";
import { parsePolicy } from "../network/policy.js";

function bad(message: string): PodflareError {
  return new PodflareError("bad_request", message);
}

function optInt(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optBool(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw bad(`${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function optStringMap(body: Record<string, unknown>, field: string): Record<string, string> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw bad(`${field} must be an object of string values`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw bad(`${field}.${k} must be a string, got ${JSON.stringify(val)}`);
    if (k.includes("\0") || val.includes("\0")) throw bad(`${field}.${k} must not contain NUL bytes`);
    if (field === "env" && (k === "" || k.includes("="))) throw bad(`env name ${JSON.stringify(k)} is not valid`);
  }
  return v as Record<string, string>;
}

function optString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "" || v.includes("\0")) throw bad(`${field} must be a non-empty string`);
  return v;
}

export function parseCreate(body: Record<string, unknown>): CreateSandboxRequest {
  const template = optString(body, "template");
  if (template !== undefined && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(template)) {
    throw bad(`template must be a template name like "default", got ${JSON.stringify(template)}`);
  }
  return {
    template,
    persistent: optBool(body, "persistent"),
    egress: optBool(body, "egress"),
    memory_mb: optInt(body, "memory_mb", 64, 1 << 20),
    disk_mb: optInt(body, "disk_mb", 64, 1 << 30),
    vcpus: optInt(body, "vcpus", 1, 1024),
    idle_timeout_s: optInt(body, "idle_timeout_s", 1, 30 * 86400),
    max_lifetime_s: optInt(body, "max_lifetime_s", 1, 365 * 86400),
    env: optStringMap(body, "env"),
    metadata: optStringMap(body, "metadata"),
    network: optNetwork(body),
  };
}

function optNetwork(body: Record<string, unknown>): NetworkPolicy | undefined {
  const v = body.network;
  if (v === undefined || v === null) return undefined;
  parsePolicy(v);
  return v as NetworkPolicy;
}

export function parseExec(
  body: Record<string, unknown>,
  timeouts: { defaultTimeoutMs: number; maxTimeoutMs: number },
): Required<Pick<ExecRequest, "code" | "language" | "timeout_ms">> & ExecRequest {
  const code = body.code;
  if (typeof code !== "string") throw bad(`code must be a string of ${body.language === "bash" ? "bash" : "Python"} code`);
  if (Buffer.byteLength(code) > limits.maxCodeBytes) {
    throw new PodflareError("payload_too_large", `code is over ${limits.maxCodeBytes} bytes; upload it as a file and run that`);
  }
  const language = (body.language ?? "python") as Language;
  if (!languages.includes(language)) {
    throw new PodflareError(
      "unknown_language",
      `language must be one of ${languages.map((l) => JSON.stringify(l)).join(", ")}, got ${JSON.stringify(body.language)}`,
    );
  }
  const cwd = optString(body, "cwd");
  if (cwd !== undefined && !cwd.startsWith("/")) throw bad(`cwd must be an absolute path, got ${JSON.stringify(cwd)}`);
  const contextId = optString(body, "context_id");
  return {
    code,
    language,
    timeout_ms: optInt(body, "timeout_ms", 1, timeouts.maxTimeoutMs) ?? timeouts.defaultTimeoutMs,
    env: optStringMap(body, "env"),
    cwd,
    ...(contextId !== undefined ? { context_id: contextId } : {}),
  };
}

/** The `path` query parameter of the files routes. */
export function parseFilePath(url: URL): string {
  const p = url.searchParams.get("path");
  if (p === null || p === "") throw new PodflareError("invalid_path", "give the file as ?path=/absolute/path");
  if (p.includes("\0")) throw new PodflareError("invalid_path", "path must not contain NUL bytes");
  if (p.length > 4096) throw new PodflareError("invalid_path", "path is longer than 4096 characters");
  return p;
}

/** `{n}` of POST /v1/sandboxes/:id/fork: 1 to limits.maxForkChildren (default 1 when missing). */
export function parseFork(body: Record<string, unknown>): number {
  const v = body.n ?? 1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > limits.maxForkChildren) {
    throw bad(`n must be an integer from 1 to ${limits.maxForkChildren}, got ${JSON.stringify(body.n)}`);
  }
  return v;
}

/** `{idle_timeout_s}` of POST /v1/sandboxes/:id/timeout (the tier's cap is applied later). */
export function parseIdleTimeout(body: Record<string, unknown>): number {
  const s = body.idle_timeout_s;
  if (typeof s !== "number" || !Number.isInteger(s) || s < 1 || s > 30 * 86400) {
    throw bad(`idle_timeout_s must be an integer number of seconds from 1 to ${30 * 86400}, got ${JSON.stringify(s)}`);
  }
  return s;
}

/** Body of PUT /v1/sandboxes/:id/network; the policy itself is checked where it is applied. */
export function parseSetNetwork(body: Record<string, unknown>): SetNetworkRequest {
  const { egress, ...policy } = body;
  if (egress !== undefined && typeof egress !== "boolean") throw bad("egress must be true or false");
  return { ...(policy as SetNetworkRequest), ...(egress === undefined ? {} : { egress }) };
}

/** Body of POST /v1/keys, with its defaults filled in. */
export function parseCreateKey(body: Record<string, unknown>): Required<CreateKeyRequest> {
  const tier = body.tier ?? "free";
  if (!isTierName(tier)) throw bad(`tier must be one of ${tierNames.join(", ")}, got ${JSON.stringify(body.tier)}`);
  if (body.name !== undefined && (typeof body.name !== "string" || body.name.length > 200)) {
    throw bad("name must be a string of at most 200 characters");
  }
  if (body.admin !== undefined && typeof body.admin !== "boolean") throw bad("admin must be true or false");
  return { name: (body.name as string | undefined) ?? "unnamed", tier, admin: body.admin === true };
}

/** Body of POST /v1/sandboxes/:id/contexts: an optional absolute cwd (checked to exist by the guest). */
export function parseCreateContext(body: Record<string, unknown>): string | undefined {
  const cwd = body.cwd;
  if (cwd === undefined || cwd === null) return undefined;
  if (typeof cwd !== "string" || !cwd.startsWith("/") || cwd.includes("\0") || cwd.length > 4096) {
    throw new PodflareError("bad_request", `cwd must be an absolute path of an existing directory, got ${JSON.stringify(cwd)}`);
  }
  return cwd;
}
