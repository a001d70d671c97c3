// E2B compatibility: the unmodified `e2b` and `@e2b/code-interpreter` SDKs against hostd, on
// hostd's own port (docs/e2b.md). Requests are claimed before the REST router: those naming a
// sandbox the E2B way (`E2b-Sandbox-Id` + `E2b-Sandbox-Port` headers, or a `<port>-<id>.<domain>`
// Host) go to the envd or code-interpreter emulation; E2B control-plane paths (/sandboxes,
// /v2/sandboxes, …) to the control plane. Everything else is the REST API's.
//
// The design rule: the E2B layer is a client of hostd's own REST API (docs/api.md) and adds no
// second implementation of policy. Every E2B call becomes one or more /v1 calls carrying the
// caller's own key, made in-process through the REST routes themselves (api/local-api.ts: the
// same route table, authentication and validation as over HTTP, without the loopback socket).
// So ownership, tiers, caps and validation are exactly the REST API's, and later REST features
// reach E2B clients without the E2B layer knowing hostd's internals.
import { noteRequestOwner } from "../api/body-budget.js";
import { paced, requestPacer } from "../api/request-pacer.js";
import { LOCAL_OWNER } from "../auth/authenticator.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { E2B_CONTROL_PLANE_PATH, PodflareError, sandboxIdPattern } from "@podflare/protocol";
import type { LocalApi } from "../api/local-api.js";
import type { OpenCalls } from "../auth/open-calls.js";
import { AccessTokens } from "./access-token.js";
import { codeInterpreterRoutes } from "./code-interpreter.js";
import { controlPlaneRoutes } from "./control-plane.js";
import { CONNECT_RPC_PATH, envdRoutes, type SandboxCall } from "./envd.js";
import { rpcMethods, serveRpc } from "./envd-rpc-serve.js";
import { E2bError, sendE2bError, unsupported } from "./envelope.js";
import { apiKeyOf, match } from "./request.js";
import { badQueryMessage, badQueryPart } from "../api/query-encoding.js";
import type { RequestTrace } from "../api/request-log.js";
import { routeLabel } from "../metrics/route-label.js";
import { Templates, parseTemplateMap } from "./shapes.js";
import { requestUrl } from "../api/request-url.js";

export const ENVD_PORT = 49983;
export const CODE_INTERPRETER_PORT = 49999;

export interface E2bOptions {
  /** hostd's REST API, called in-process with the caller's key (api/local-api.ts). */
  api: LocalApi;
  stateDir: string;
  /** PODFLARE_E2B_TEMPLATES (e2bName=ourTemplate,…); unset: base=default, code-interpreter-v1=python-datasci. */
  templateMap?: string;
  log: (msg: string) => void;
  /** Each authenticated request is tracked under its key while it is answered (closed on revocation). */
  calls?: OpenCalls;
}

/**
 * Serves a request if it is E2B's (resolves true), otherwise leaves it to the REST router. The
 * trace gets the E2B route's label (its pattern, never the raw path: the label set is bounded)
 * and the sandbox, for the request log and /metrics.
 */
export type E2bHandler = (req: IncomingMessage, res: ServerResponse, trace?: RequestTrace) => Promise<boolean>;

export function createE2bHandler(opts: E2bOptions): E2bHandler {
  const { api } = opts;
  const tokens = AccessTokens.load(opts.stateDir);
  const templates = new Templates(parseTemplateMap(opts.templateMap));
  const control = controlPlaneRoutes({ api, tokens, templates });
  const envd = envdRoutes(api);
  const rpc = rpcMethods();
  const interpreter = codeInterpreterRoutes(api);

  const handler = async (req: IncomingMessage, res: ServerResponse, trace?: RequestTrace): Promise<boolean> => {
    const url = requestUrl(req.url);
    // The REST API's own paths stay the REST API's, whatever E2B headers or Host come with them.
    const target = url.pathname.startsWith("/v1/") ? null : sandboxTarget(req);
    if (!target && !E2B_CONTROL_PLANE_PATH.test(url.pathname)) {
      // envd's pre-signed file URLs (downloadUrl/uploadUrl) name no sandbox: E2B's edge finds it
      // from the Host, which a URL built on E2B_SANDBOX_URL does not carry.
      if (url.pathname === "/files" && url.searchParams.has("signature")) {
        sendE2bError(res, unsupported("pre-signed file URLs (files.downloadUrl/uploadUrl)"), opts.log);
        return true;
      }
      return false;
    }
    // An authenticated call: tracked under its key (revocation) and its body counted as the key's.
    const track = (owner: string): Promise<void> => {
      opts.calls?.trackRequest(owner, req.socket, res);
      noteRequestOwner(req, owner);
      return owner === LOCAL_OWNER ? Promise.resolve() : paced(requestPacer(), owner, req);
    };
    try {
      const method = req.method ?? "GET";
      const badQuery = badQueryPart(url.search);
      if (badQuery !== undefined) throw new E2bError(400, badQueryMessage(badQuery));
      if (!target) {
        const key = apiKeyOf(req);
        if (trace) {
          trace.route = "e2b unsupported";
          trace.keyId = api.keyIdOf(key);
        }
        await track(api.authenticate(key));
        const found = match(control, method, url.pathname);
        if (!found) throw unsupported(`${method} ${url.pathname}`);
        if (trace) trace.route = `e2b ${routeLabel(found.route.pattern)}`;
        await found.route.handle({ req, res, url, params: found.params, key });
        return true;
      }
      const service = target.port === ENVD_PORT ? "envd" : target.port === CODE_INTERPRETER_PORT ? "code-interpreter" : "port";
      if (trace) {
        trace.route = `e2b ${service} unmatched`;
        trace.sandboxId = target.sandboxId;
      }
      if (!sandboxIdPattern.test(target.sandboxId)) throw new E2bError(502, `sandbox ${target.sandboxId} not found; ids look like sbx_ followed by 32 hex digits`);
      const ctx: SandboxCall = { req, res, url, params: [], key: sandboxKey(req, target.sandboxId, tokens), sandboxId: target.sandboxId };
      if (trace) trace.keyId = api.keyIdOf(ctx.key);
      if (target.port === ENVD_PORT) {
        const call = CONNECT_RPC_PATH.exec(url.pathname);
        if (call && method === "POST") {
          if (trace && rpc.has(`${call[1]}/${call[2]}`)) trace.route = `e2b envd /${call[1]}/${call[2]}`;
          // Each method is REST calls made with the caller's key: the REST API authenticates them.
          // serveRpc answers a refused key in Connect's own error shape.
          await serveRpc(rpc, api, ctx, `${call[1]}/${call[2]}`, opts.log, track);
          return true;
        }
      }
      await track(api.authenticate(ctx.key));
      const routes = target.port === ENVD_PORT ? envd : target.port === CODE_INTERPRETER_PORT ? interpreter : null;
      if (!routes) throw unsupported(`traffic to port ${target.port} of a sandbox through E2B's routing (use GET /v1/sandboxes/<id>/ports/${target.port}/… instead)`);
      const found = match(routes, method, url.pathname);
      if (found && trace) trace.route = `e2b ${service} ${routeLabel(found.route.pattern)}`;
      if (!found) throw new E2bError(404, `${method} ${url.pathname} is not served on port ${target.port} by Podflare self-hosted; see docs/e2b.md`);
      await found.route.handle({ ...ctx, params: found.params });
    } catch (err) {
      sendE2bError(res, target ? asSandboxTraffic(err) : err, opts.log);
    }
    return true;
  };
  return handler;
}

/**
 * Traffic to a sandbox that is gone is E2B's edge's 502 (the SDKs read it as "the sandbox
 * timed out"), not our 404, which envd's file calls would take for a missing file.
 */
function asSandboxTraffic(err: unknown): unknown {
  if (err instanceof PodflareError && err.code === "sandbox_not_found") return new E2bError(502, err.message);
  if (err instanceof E2bError && err.status === 404 && /^sandbox \S+ not found/.test(err.message)) return new E2bError(502, err.message);
  return err;
}

const HOST_FORM = /^(\d{1,5})-(sbx_[0-9a-f]{32})\./i;

/** The sandbox and port a request is for, from E2B's headers or its Host; null: not sandbox traffic. */
export function sandboxTarget(req: IncomingMessage): { sandboxId: string; port: number } | null {
  const id = req.headers["e2b-sandbox-id"];
  if (typeof id === "string" && id !== "") {
    const rawPort = req.headers["e2b-sandbox-port"];
    const port = typeof rawPort === "string" && /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : ENVD_PORT;
    return { sandboxId: id, port };
  }
  const m = HOST_FORM.exec(req.headers.host ?? "");
  return m ? { sandboxId: m[2]!.toLowerCase(), port: Number(m[1]) } : null;
}

/**
 * The key a sandbox call is made with: the one sealed in its access token (`X-Access-Token`,
 * or `E2B-Traffic-Access-Token`, which the code interpreter's context calls carry alone), or an
 * API key given directly. A token that is not ours, or made for another sandbox, is refused.
 */
function sandboxKey(req: IncomingMessage, sandboxId: string, tokens: AccessTokens): string | undefined {
  for (const header of ["x-access-token", "e2b-traffic-access-token"]) {
    const token = req.headers[header];
    if (typeof token !== "string" || token === "") continue;
    const opened = tokens.open(token, sandboxId);
    if (!opened) throw new E2bError(401, `the ${header} is not valid for sandbox ${sandboxId}; get the sandbox again with Sandbox.connect()`);
    return opened.key ?? apiKeyOf(req);
  }
  return apiKeyOf(req);
}
