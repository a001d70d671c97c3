// What a route is: a method, an anchored path pattern and a handler. The route files
// (sandbox-routes.ts, exec-routes.ts, …) make their routes with a RouteMaker; routes.ts
// assembles them.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PodflareError, sandboxIdPattern } from "@podflare/protocol";
import type { Principal } from "../auth/authenticator.js";
import { clipId } from "../storage/index.js";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  owner: string;
  principal: Principal;
  params: string[];
}

export interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle(ctx: RouteContext): Promise<void> | void;
}

/** Makes a route; `path` is a regular expression source, anchored here. */
export type RouteMaker = (method: string, path: string, handle: Route["handle"], auth?: boolean) => Route;

export const route: RouteMaker = (method, path, handle, auth = true) => ({
  method,
  pattern: new RegExp(`^${path}$`),
  auth,
  handle,
});

/** The path of one sandbox; its id is the routes' first param. */
export const SB = "/v1/sandboxes/([^/]+)";

/** The params[i] sandbox id, checked for shape (a malformed id is simply not found). */
export function sandboxId(ctx: RouteContext, i = 0): string {
  return checkedSandboxId(ctx.params[i]!);
}

/** A sandbox id, checked for shape (a malformed id is simply not found). */
export function checkedSandboxId(id: string): string {
  if (!sandboxIdPattern.test(id)) throw malformedSandboxId(id);
  return id;
}

/** The 404 of an id that is not one: quoted clipped (a path may carry 16 KiB of it). */
export function malformedSandboxId(id: string): PodflareError {
  return new PodflareError("sandbox_not_found", `sandbox ${clipId(id)} not found; ids look like sbx_ followed by 32 hex digits`);
}

