// Admin routes for API keys: POST/GET /v1/keys, DELETE /v1/keys/:id. Only an admin key (the
// PODFLARE_ADMIN_KEY, or a stored key made with --admin) may use them. The plain key is in the
// create answer only.
import type { Duplex } from "node:stream";
import { PodflareError, limits, type CreateKeyResponse, type KeyInfo, type ListKeysResponse } from "@podflare/protocol";
import type { KeyRecord, KeyStore } from "../auth/keys.js";
import { revokeKey, type LastKeyGuard } from "../auth/last-key.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import type { Route, RouteContext, RouteMaker } from "./route.js";
import { parseCreateKey } from "./validate.js";

function requireAdmin(ctx: RouteContext): void {
  if (!ctx.principal.admin) throw new PodflareError("forbidden", "managing keys needs an admin key (PODFLARE_ADMIN_KEY, or one made with `podflare keys create --admin`)");
}

function toJson(k: KeyRecord): KeyInfo {
  return {
    id: k.id,
    name: k.name,
    tier: k.tier,
    admin: k.admin,
    prefix: k.prefix,
    created_at: new Date(k.createdAt).toISOString(),
    last_used_at: k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : null,
    revoked_at: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
  };
}

export function keyRoutes(keys: KeyStore, route: RouteMaker, guard: LastKeyGuard, onRevoked?: (id: string, by: Duplex) => Promise<void>): Route[] {
  return [
    route("POST", "/v1/keys", async (ctx) => {
      requireAdmin(ctx);
      const { key, record } = keys.create(parseCreateKey(await readJsonBody(ctx.req, limits.maxJsonBytes)));
      // The only time the key is shown: no cache along the way may keep it.
      sendJson(ctx.res, 200, { key, ...toJson(record) } satisfies CreateKeyResponse, { "cache-control": "no-store" });
    }),
    route("GET", "/v1/keys", (ctx) => {
      requireAdmin(ctx);
      sendJson(ctx.res, 200, { keys: keys.list().map(toJson) } satisfies ListKeysResponse);
    }),
    route("DELETE", "/v1/keys/([^/]+)", async (ctx) => {
      requireAdmin(ctx);
      const id = ctx.params[0]!;
      // By id only: a plain key in a URL would end up in logs.
      if (!keys.get(id)) throw new PodflareError("not_found", `no live key ${id}`);
      revokeKey(keys, id, guard);
      // Its open connections and sandboxes end before the answer (auth/revocations.ts).
      await onRevoked?.(id, ctx.req.socket);
      sendNoContent(ctx.res);
    }),
  ];
}
