// The filesystem API: /v1/sandboxes/:id/fs/{stat,list,mkdir,move,remove,watch}. The guest
// resolves every path inside the sandbox's own mount namespace (guest fs_ops.py), with the
// files API's rules (parseFilePath here, paths.resolve there).
import { PodflareError, fsLimits, limits, type FsEntry } from "@podflare/protocol";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { guestRequest } from "../runtime/guest-request.js";
import { pipeGuestStream } from "./guest-stream.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { sandboxId, type Route, type RouteContext, type RouteMaker } from "./route.js";
import { parseBodyPath as bodyPath, parseFilePath, parseFlag as flag } from "./validate.js";

export function fsRoutes(cfg: HostdConfig, sandboxes: SandboxManager, route: RouteMaker): Route[] {
  const F = "/v1/sandboxes/([^/]+)/fs";
  const timeout = cfg.guestReplyTimeoutMs;
  const guest = (ctx: RouteContext, hold = false) => sandboxes.openGuest(ctx.owner, sandboxId(ctx), hold);
  const body = async (ctx: RouteContext) => {
    sandboxes.info(ctx.owner, sandboxId(ctx));
    return readJsonBody(ctx.req, limits.maxJsonBytes);
  };
  // Open watch streams per sandbox: each holds an inotify instance and a thread inside.
  const watches = new Map<string, number>();

  return [
    route("GET", `${F}/stat`, async (ctx) => {
      const path = parseFilePath(ctx.url);
      const a = await guestRequest(await guest(ctx), { t: "fs_stat", path }, ["fs_entry"], timeout);
      sendJson(ctx.res, 200, a.entry);
    }),

    route("GET", `${F}/list`, async (ctx) => {
      const path = parseFilePath(ctx.url);
      const raw = ctx.url.searchParams.get("depth") ?? "1";
      const depth = Number(raw);
      if (!Number.isInteger(depth) || depth < 1 || depth > fsLimits.maxListDepth) {
        throw new PodflareError("bad_request", `depth must be an integer from 1 to ${fsLimits.maxListDepth}, got ${JSON.stringify(raw)}`);
      }
      const a = await guestRequest(await guest(ctx), { t: "fs_list", path, depth, max_entries: fsLimits.maxListEntries }, ["fs_entries"], timeout);
      sendJson(ctx.res, 200, { path, entries: a.entries as FsEntry[] });
    }),

    route("POST", `${F}/mkdir`, async (ctx) => {
      const b = await body(ctx);
      const path = bodyPath(b, "path");
      const a = await guestRequest(await guest(ctx), { t: "fs_mkdir", path, parents: flag(b.parents, "parents") }, ["fs_entry"], timeout);
      sendJson(ctx.res, 200, a.entry);
    }),

    route("POST", `${F}/move`, async (ctx) => {
      const b = await body(ctx);
      const path = bodyPath(b, "path");
      const to = bodyPath(b, "to");
      const a = await guestRequest(await guest(ctx), { t: "fs_move", path, to }, ["fs_entry"], timeout);
      sendJson(ctx.res, 200, a.entry);
    }),

    route("POST", `${F}/remove`, async (ctx) => {
      const b = await body(ctx);
      const path = bodyPath(b, "path");
      await guestRequest(await guest(ctx), { t: "fs_remove", path, recursive: flag(b.recursive, "recursive") }, ["done"], timeout);
      sendNoContent(ctx.res);
    }),

    route("GET", `${F}/watch`, async (ctx) => {
      const id = sandboxId(ctx);
      const path = parseFilePath(ctx.url);
      const recursive = flag(ctx.url.searchParams.get("recursive"), "recursive");
      sandboxes.info(ctx.owner, id);
      // Checked and taken in one synchronous step, so parallel watches cannot pass together.
      const open = watches.get(id) ?? 0;
      if (open >= fsLimits.maxWatches) {
        throw new PodflareError("watch_limit", `sandbox ${id} has ${open} open watches, the most allowed (${fsLimits.maxWatches}); close one first`);
      }
      watches.set(id, open + 1);
      try {
        await pipeGuestStream(ctx.res, await guest(ctx, true), { t: "fs_watch", path, recursive }, (f) => {
          const h = f.header;
          if (h.t === "fs_watching") return { events: [{ type: "watching", path: h.path }], end: false };
          if (h.t === "fs_event") return { events: [{ type: h.type, path: h.path, name: h.name, ...(h.moved ? { moved: h.moved } : {}) }], end: false };
          return { events: [], end: true };
        });
      } finally {
        const left = (watches.get(id) ?? 1) - 1;
        if (left > 0) watches.set(id, left);
        else watches.delete(id);
      }
    }),
  ];
}
