// Sandboxes themselves: create, list, read, delete, kill their processes, restart the REPL.
import type { IncomingMessage } from "node:http";
import {
  PodflareError,
  limits,
  type CreateSandboxResponse,
  type KillProcessesResponse,
  type ListSandboxesResponse,
  type SandboxInfo,
} from "@podflare/protocol";
import type { Principal } from "../auth/authenticator.js";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody, sendJson, sendNoContent, streamJsonList } from "./http.js";
import { checkRegion } from "./region.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseCreate } from "./validate.js";

/**
 * A create after routing and authentication: the region asked for (body or header of `req`)
 * checked, the body validated, the sandbox made within the caller's tier. The REST route and the
 * in-process API (local-api.ts) both create through here.
 */
export type CreateCall = (principal: Principal, req: IncomingMessage, raw: Record<string, unknown>) => Promise<CreateSandboxResponse>;

export function createCall(cfg: HostdConfig, sandboxes: SandboxManager): CreateCall {
  return async (principal, req, raw) => {
    checkRegion(req, raw, cfg.region);
    return sandboxes.create(principal.owner, parseCreate(raw), principal.tier);
  };
}

export function sandboxRoutes(cfg: HostdConfig, sandboxes: SandboxManager, route: RouteMaker): Route[] {
  const create = createCall(cfg, sandboxes);
  return [
    route("POST", "/v1/sandboxes", async (ctx) => {
      sendJson(ctx.res, 200, await create(ctx.principal, ctx.req, await readJsonBody(ctx.req, limits.maxJsonBytes)));
    }),

    route("GET", "/v1/sandboxes", async (ctx) => {
      // ?all=true: every key's sandboxes, with their owner (the dashboard's admin view).
      const all = ctx.url.searchParams.get("all");
      if (all !== null && all !== "true" && all !== "false") throw new PodflareError("bad_request", `all=${JSON.stringify(all)}: use all=true (every key's sandboxes, admin keys only) or leave it out`);
      if (all === "true" && !ctx.principal.admin) throw new PodflareError("forbidden", "listing every key's sandboxes (all=true) needs an admin key; leave all out to list your own");
      const list: ListSandboxesResponse["sandboxes"] = all === "true" ? sandboxes.listAll() : sandboxes.list(ctx.owner);
      // Streamed: each item may carry up to limits.maxMetadataBytes of metadata.
      await streamJsonList(ctx.res, "sandboxes", list);
    }),

    route("GET", SB, async (ctx) => {
      sendJson(ctx.res, 200, sandboxes.checkedInfo(ctx.owner, sandboxId(ctx)) satisfies SandboxInfo);
    }),

    route("DELETE", SB, async (ctx) => {
      // ?all=true: an admin closes any key's sandbox (an operator stopping abuse without revoking the key).
      const all = ctx.url.searchParams.get("all");
      if (all !== null && all !== "true" && all !== "false") throw new PodflareError("bad_request", `all=${JSON.stringify(all)}: use all=true (any key's sandbox, admin keys only) or leave it out`);
      if (all === "true" && !ctx.principal.admin) throw new PodflareError("forbidden", "closing another key's sandbox (all=true) needs an admin key; leave all out to close your own");
      const id = sandboxId(ctx);
      await sandboxes.delete(all === "true" ? (sandboxes.ownerOf(id) ?? ctx.owner) : ctx.owner, id);
      sendNoContent(ctx.res);
    }),

    route("POST", `${SB}/kill_processes`, async (ctx) => {
      sendJson(ctx.res, 200, (await sandboxes.killProcesses(ctx.owner, sandboxId(ctx))) satisfies KillProcessesResponse);
    }),

    route("POST", `${SB}/restart_repl`, async (ctx) => {
      await sandboxes.restartRepl(ctx.owner, sandboxId(ctx));
      sendNoContent(ctx.res);
    }),
  ];
}
