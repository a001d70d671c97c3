// POST /v1/sandboxes/:id/exec: runs code and streams its output as NDJSON (docs/api.md).
import { limits, type ExecEvent } from "@podflare/protocol";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { readJsonBody } from "./http.js";
import { SB, sandboxId, type Route, type RouteContext, type RouteMaker } from "./route.js";
import { parseExec } from "./validate.js";

export function execRoutes(cfg: HostdConfig, sandboxes: SandboxManager, route: RouteMaker): Route[] {
  return [
    route("POST", `${SB}/exec`, async (ctx) => {
      const id = sandboxId(ctx);
      sandboxes.info(ctx.owner, id); // 404 before reading the body
      const body = parseExec(await readJsonBody(ctx.req, limits.maxJsonBytes), cfg.exec);
      await streamExec(ctx, id, body, sandboxes);
    }),
  ];
}

/** Streams an exec as NDJSON, one event per line, written as produced. */
async function streamExec(
  ctx: RouteContext,
  id: string,
  body: ReturnType<typeof parseExec>,
  sandboxes: SandboxManager,
): Promise<void> {
  const { res } = ctx;
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  let seq = 0;
  let headerSent = false;
  const write = (event: ExecEvent): void => {
    if (!headerSent) {
      res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
      headerSent = true;
    }
    // A client that went away gets nothing more; the exec is being interrupted.
    if (!res.destroyed) res.write(JSON.stringify(event) + "\n");
  };
  // Output moves only as fast as the client reads it (docs/api.md, "Backpressure").
  const flow = {
    full: () => res.writableNeedDrain && !res.destroyed,
    drained: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      }),
  };
  const code = await sandboxes.exec(
    ctx.owner,
    id,
    body,
    (stream, line) => write({ type: stream, data: line, seq: seq++, ts: Date.now() }),
    abort.signal,
    flow,
    (event) => write({ ...event, seq: seq++, ts: Date.now() }),
  );
  write({ type: "exit", data: code, seq: seq++, ts: Date.now() });
  res.end();
}
