// Files: PUT (upload, streamed), GET (a file's bytes or a directory listing) and DELETE on
// /v1/sandboxes/:id/files?path=/absolute/path.
import { PodflareError, limits, type DirListing } from "@podflare/protocol";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { sendJson, sendNoContent } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseFilePath } from "./validate.js";

export function fileRoutes(sandboxes: SandboxManager, route: RouteMaker): Route[] {
  return [
    route("PUT", `${SB}/files`, async (ctx) => {
      const id = sandboxId(ctx);
      const path = parseFilePath(ctx.url);
      const declared = Number(ctx.req.headers["content-length"] ?? 0);
      if (declared > limits.maxUploadBytes) {
        throw new PodflareError("payload_too_large", `upload exceeds ${limits.maxUploadBytes} bytes; split it into smaller files`);
      }
      await sandboxes.upload(ctx.owner, id, path, ctx.req, limits.maxUploadBytes);
      sendNoContent(ctx.res);
    }),

    route("GET", `${SB}/files`, async (ctx) => {
      const id = sandboxId(ctx);
      const path = parseFilePath(ctx.url);
      const result = await sandboxes.read(ctx.owner, id, path);
      if (result.kind === "dir") {
        sendJson(ctx.res, 200, { path, entries: result.entries } satisfies DirListing);
        return;
      }
      // Node checks the body against the content length too (a second guard against a guest
      // that sends more than it declared: runtime/files.ts).
      ctx.res.strictContentLength = true;
      ctx.res.writeHead(200, { "content-type": "application/octet-stream", "content-length": result.size });
      await result.pipe(ctx.res);
      ctx.res.end();
    }),

    route("DELETE", `${SB}/files`, async (ctx) => {
      await sandboxes.remove(ctx.owner, sandboxId(ctx), parseFilePath(ctx.url));
      sendNoContent(ctx.res);
    }),
  ];
}
