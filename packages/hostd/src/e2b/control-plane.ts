// E2B's control plane (api.e2b.app) on hostd: /sandboxes, /v2/sandboxes and their actions,
// each mapped onto the REST API with the caller's key. What has no Podflare counterpart yet
// answers 501 in E2B's error shape.
import type { SandboxInfo } from "@podflare/protocol";
import type { AccessTokens } from "./access-token.js";
import { E2bError, expectOk, sendE2bJson, unsupported } from "./envelope.js";
import { e2bRoute, readBody, sendNoContent, type E2bContext, type E2bRoute } from "./request.js";
import { e2bState, listedSandbox, sandboxAnswer, sandboxDetail, type Templates } from "./shapes.js";
import { e2bNetworkToOurs } from "./network-policy.js";
import type { LocalApi } from "../api/local-api.js";

/** Asked for on every E2B create; the caller's tier caps it (docs/api.md, Tiers). */
const E2B_MAX_LIFETIME_S = 365 * 86400;
/** The most our idle timeout takes (POST …/timeout); the tier caps it lower. */
const MAX_IDLE_S = 30 * 86400;

export interface ControlPlaneDeps {
  api: LocalApi;
  tokens: AccessTokens;
  templates: Templates;
}

const SB = "/sandboxes/([^/]+)";
const sb = (id: string) => `/v1/sandboxes/${encodeURIComponent(id)}`;

export function controlPlaneRoutes(deps: ControlPlaneDeps): E2bRoute[] {
  const { api, tokens, templates } = deps;

  const info = async (ctx: E2bContext, id: string): Promise<SandboxInfo> => {
    const answer = await api.json("GET", sb(id), { key: ctx.key });
    expectOk(answer);
    return answer.body as SandboxInfo;
  };
  /**
   * E2B's timeout: the sandbox ends `timeoutS` from now, whatever runs in it (our lifetime_s,
   * counted from its creation, so from now it is its age plus the timeout; never past its
   * max_lifetime_s). The idle timeout is set alike, so idleness ends nothing sooner.
   */
  const setTimeoutS = async (ctx: E2bContext, id: string, timeoutS: unknown): Promise<void> => {
    if (timeoutS === undefined || timeoutS === null) return;
    if (typeof timeoutS !== "number" || !Number.isInteger(timeoutS) || timeoutS < 1) {
      throw new E2bError(400, `timeout must be a whole number of seconds, at least 1, got ${JSON.stringify(timeoutS)}`);
    }
    const ageS = Math.ceil((Date.now() - Date.parse((await info(ctx, id)).created_at)) / 1000);
    const body = { idle_timeout_s: Math.min(timeoutS, MAX_IDLE_S), lifetime_s: ageS + timeoutS };
    expectOk(await api.json("POST", `${sb(id)}/timeout`, { key: ctx.key, body }));
  };
  /** A paused E2B sandbox's timeout does not run (connect sets a new one): its end goes back to its max_lifetime_s. */
  const holdWhilePaused = async (ctx: E2bContext, id: string): Promise<void> => {
    expectOk(await api.json("POST", `${sb(id)}/timeout`, { key: ctx.key, body: { lifetime_s: E2B_MAX_LIFETIME_S } }));
  };
  const answerFor = (ctx: E2bContext, id: string, template: string) => sandboxAnswer(id, template, templates, tokens.issue(id, ctx.key));

  const create = async (ctx: E2bContext): Promise<void> => {
    const body = await readBody(ctx.req);
    const made = await api.create(ctx.key, createBody(body, templates));
    sendE2bJson(ctx.res, 201, answerFor(ctx, made.id, made.template));
  };

  const list = async (ctx: E2bContext, defaultStates: string[]): Promise<void> => {
    const answer = await api.json("GET", "/v1/sandboxes", { key: ctx.key });
    expectOk(answer);
    const all = (answer.body as { sandboxes: SandboxInfo[] }).sandboxes;
    const q = parseListQuery(ctx.url, defaultStates, templates);
    const matching = all.filter(
      (s) => q.states.includes(e2bState(s)) && (q.template === undefined || s.template === q.template) && Object.entries(q.metadata).every(([k, v]) => s.metadata[k] === v),
    );
    const page = matching.slice(q.offset, q.offset + q.limit);
    const next: Record<string, string> = q.offset + q.limit < matching.length ? { "x-next-token": String(q.offset + q.limit) } : {};
    sendE2bJson(ctx.res, 200, page.map((s) => listedSandbox(s, templates)), next);
  };

  const connect = async (ctx: E2bContext, mustBePaused: boolean): Promise<void> => {
    const id = ctx.params[0]!;
    const body = await readBody(ctx.req);
    const before = await info(ctx, id);
    const paused = before.state === "paused";
    if (mustBePaused && !paused) throw new E2bError(409, `sandbox ${id} is already running; connect to it instead`);
    if (paused) expectOk(await api.json("POST", `${sb(id)}/resume`, { key: ctx.key }));
    await setTimeoutS(ctx, id, body.timeout);
    sendE2bJson(ctx.res, paused ? 201 : 200, answerFor(ctx, id, before.template));
  };

  return [
    e2bRoute("POST", "/v2/sandboxes", create),
    e2bRoute("POST", "/sandboxes", create),
    e2bRoute("GET", "/v2/sandboxes", (ctx) => list(ctx, ["running", "paused"])),
    e2bRoute("GET", "/sandboxes", (ctx) => list(ctx, ["running"])),
    e2bRoute("GET", SB, async (ctx) => {
      const id = ctx.params[0]!;
      sendE2bJson(ctx.res, 200, sandboxDetail(await info(ctx, id), templates, tokens.issue(id, ctx.key)));
    }),
    e2bRoute("DELETE", SB, async (ctx) => {
      expectOk(await api.json("DELETE", sb(ctx.params[0]!), { key: ctx.key }));
      sendNoContent(ctx.res);
    }),
    e2bRoute("POST", `${SB}/timeout`, async (ctx) => {
      const body = await readBody(ctx.req);
      if (typeof body.timeout !== "number") throw new E2bError(400, `timeout must be a number of seconds, got ${body.timeout === undefined ? "none" : JSON.stringify(body.timeout)}`);
      await setTimeoutS(ctx, ctx.params[0]!, body.timeout);
      sendNoContent(ctx.res);
    }),
    e2bRoute("POST", `${SB}/refreshes`, async (ctx) => {
      const body = await readBody(ctx.req);
      await setTimeoutS(ctx, ctx.params[0]!, body.duration ?? 60);
      sendNoContent(ctx.res);
    }),
    e2bRoute("POST", `${SB}/pause`, async (ctx) => {
      const id = ctx.params[0]!;
      const body = await readBody(ctx.req);
      if (body.memory === false) throw unsupported("pause with keepMemory: false (a filesystem-only snapshot)");
      if ((await info(ctx, id)).state === "paused") throw new E2bError(409, `sandbox ${id} is already paused`);
      expectOk(await api.json("POST", `${sb(id)}/pause`, { key: ctx.key }));
      await holdWhilePaused(ctx, id);
      sendNoContent(ctx.res);
    }),
    e2bRoute("POST", `/v2${SB}/connect`, (ctx) => connect(ctx, false)),
    e2bRoute("POST", `${SB}/connect`, (ctx) => connect(ctx, false)),
    e2bRoute("POST", `${SB}/resume`, (ctx) => connect(ctx, true)),
    e2bRoute("POST", `${SB}/fork`, async (ctx) => {
      const id = ctx.params[0]!;
      const body = await readBody(ctx.req);
      const parent = await info(ctx, id);
      const answer = await api.json("POST", `${sb(id)}/fork`, { key: ctx.key, body: { n: body.count ?? 1 } });
      expectOk(answer);
      const children = (answer.body as { children: string[] }).children;
      for (const child of children) await setTimeoutS(ctx, child, body.timeout);
      sendE2bJson(ctx.res, 200, children.map((child) => ({ sandbox: answerFor(ctx, child, parent.template) })));
    }),
  ];
}

/** Our create body from E2B's; what we cannot honour is refused by name, never dropped. */
export function createBody(body: Record<string, unknown>, templates: Templates): Record<string, unknown> {
  const templateID = body.templateID ?? "base";
  if (typeof templateID !== "string") throw new E2bError(400, `templateID must be a string, got ${JSON.stringify(templateID)}`);
  if (body.autoPause === true) throw unsupported("autoPause (lifecycle.onTimeout: 'pause')");
  if ((body.autoResume as { enabled?: unknown } | undefined)?.enabled === true) throw unsupported("autoResume");
  if (body.mcp !== undefined && body.mcp !== null) throw unsupported("mcp");
  if (Array.isArray(body.volumeMounts) && body.volumeMounts.length > 0) throw unsupported("volumeMounts");
  if (body.iam !== undefined && body.iam !== null) throw unsupported("iam");
  // Checked here, so that the error names E2B's field rather than ours that it becomes.
  if (body.timeout !== undefined && body.timeout !== null && (typeof body.timeout !== "number" || !Number.isInteger(body.timeout) || body.timeout < 1)) {
    throw new E2bError(400, `timeout must be a whole number of seconds, at least 1, got ${JSON.stringify(body.timeout)}`);
  }
  const ours: Record<string, unknown> = {
    template: templates.ours(templateID),
    metadata: body.metadata ?? undefined,
    env: body.envVars ?? undefined,
    // E2B's timeout ends the sandbox that long after its create, whatever runs in it: our
    // lifetime_s. Within the longest lifetime the tier allows, so that setTimeout can extend it.
    idle_timeout_s: typeof body.timeout === "number" ? Math.min(body.timeout, MAX_IDLE_S) : undefined,
    lifetime_s: body.timeout ?? undefined,
    max_lifetime_s: E2B_MAX_LIFETIME_S,
  };
  const net = body.network as Record<string, unknown> | undefined | null;
  if (net) {
    for (const field of ["rules", "egressProxy", "maskRequestHost", "httpsPorts"]) {
      if (net[field] !== undefined) throw unsupported(`network.${field}`);
    }
    if (net.allowPublicTraffic === false) throw unsupported("network.allowPublicTraffic: false");
  }
  return { ...ours, ...e2bNetworkToOurs(body.allow_internet_access, net?.allowOut, net?.denyOut) };
}

interface ListQuery {
  states: string[];
  metadata: Record<string, string>;
  template: string | undefined;
  offset: number;
  limit: number;
}

/** GET /v2/sandboxes?state=running,paused&metadata=<url-encoded k=v&…>&template=&limit=&nextToken= */
export function parseListQuery(url: URL, defaultStates: string[], templates: Templates): ListQuery {
  const states = url.searchParams.getAll("state").flatMap((s) => s.split(",")).filter(Boolean);
  for (const s of states) {
    if (s !== "running" && s !== "paused") throw new E2bError(400, `state must be running or paused, got ${JSON.stringify(s)}`);
  }
  const metadata: Record<string, string> = {};
  const raw = url.searchParams.get("metadata");
  if (raw) {
    // The SDK percent-encodes each key and value, then the query as a whole.
    for (const [k, v] of new URLSearchParams(raw)) metadata[safeDecode(k)] = safeDecode(v);
  }
  const template = url.searchParams.get("template") ?? undefined;
  const offset = Number(url.searchParams.get("nextToken") ?? 0);
  const limit = Number(url.searchParams.get("limit") ?? 1000);
  if (!Number.isInteger(offset) || offset < 0) throw new E2bError(400, "nextToken must be the x-next-token of the previous page");
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new E2bError(400, `limit must be an integer from 1 to 10000, got ${url.searchParams.get("limit")}`);
  return { states: states.length ? states : defaultStates, metadata, template: template && templates.ours(template), offset, limit };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
