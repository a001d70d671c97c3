// The requests behind Sandbox.create, Sandbox.connect and Sandbox.resume(spaceId), and the
// checks of their answers. Each gives what the Sandbox constructor needs.

import { MethodNotAllowedError, NotFoundError, ProtocolError, SandboxNotFoundError } from "./errors.js";
import { httpFor, type ClientOption } from "./client.js";
import type { HttpClient } from "./http.js";
import { enc } from "./sandbox-ref.js";
import { fromApplied, toCreateRequest, type AppliedLimits, type ConnectionOptions, type SandboxOptions } from "./types.js";
import type * as wire from "./wire.js";

export interface SandboxInit {
  template?: string | undefined;
  applied?: AppliedLimits | undefined;
  clamped?: string[] | undefined;
  warnings?: string[] | undefined;
}

export interface Opened {
  http: HttpClient;
  id: string;
  init: SandboxInit;
}

export async function createSandbox(opts: SandboxOptions & ClientOption): Promise<Opened> {
  const http = httpFor(opts);
  const body = toCreateRequest({ ...opts, region: http.region });
  const res = await http.json<wire.CreateSandboxResponse>("POST", "/v1/sandboxes", { json: body });
  return fromCreateAnswer(http, res, "POST /v1/sandboxes", opts.template);
}

export async function connectSandbox(id: string, opts: ConnectionOptions & ClientOption): Promise<Opened> {
  const http = httpFor(opts);
  try {
    const info = await http.json<wire.SandboxInfo>("GET", `/v1/sandboxes/${enc(id)}`);
    return { http, id, init: { template: info?.template, applied: fromApplied(info?.applied) } };
  } catch (err) {
    // A server without GET /v1/sandboxes/:id (route 404 or 405): attach without checking.
    const routeMissing =
      (err instanceof NotFoundError && !(err instanceof SandboxNotFoundError) && err.code === "not_found") ||
      err instanceof MethodNotAllowedError;
    if (routeMissing) return { http, id, init: {} };
    throw err;
  }
}

export async function resumeSpace(spaceId: string, opts: ConnectionOptions & ClientOption): Promise<Opened> {
  const http = httpFor(opts);
  const path = `/v1/spaces/${enc(spaceId)}/resume`;
  const res = await http.json<wire.CreateSandboxResponse>("POST", path, http.region !== undefined ? { json: { region: http.region } } : {});
  return fromCreateAnswer(http, res, `POST ${path}`, undefined);
}

function fromCreateAnswer(http: HttpClient, res: wire.CreateSandboxResponse | undefined, what: string, template: string | undefined): Opened {
  if (!res || typeof res.id !== "string") throw new ProtocolError(`${what} answered without a sandbox id`);
  return {
    http,
    id: res.id,
    init: {
      template: res.template ?? template,
      applied: fromApplied(res.applied),
      clamped: Array.isArray(res.clamped) ? res.clamped : [],
      warnings: Array.isArray(res.warnings) ? res.warnings : [],
    },
  };
}
