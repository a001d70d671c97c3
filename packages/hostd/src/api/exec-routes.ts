// POST /v1/sandboxes/:id/exec: runs code and streams its output as NDJSON (docs/api.md).
import type { ServerResponse } from "node:http";
import { limits, type ExecEvent } from "@podflare/protocol";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import type { ExecFlow } from "../runtime/exec.js";
import { drainedOrClosed, readJsonBody } from "./http.js";
import { SB, sandboxId, type Route, type RouteMaker } from "./route.js";
import { parseExec } from "./validate.js";

/** Where an exec's events go, `exit` last, only as fast as `flow` lets them. */
export interface ExecSink {
  event(e: ExecEvent): void;
  flow: ExecFlow;
  /** Aborted when the client goes away: the exec is interrupted. */
  signal: AbortSignal;
}

/**
 * An exec after routing and authentication: the sandbox must be the owner's (404 before the body
 * is read), the body is validated, the code runs. The REST route streams the events as NDJSON;
 * the in-process API (local-api.ts) hands them over as objects.
 */
export type ExecCall = (owner: string, id: string, readBody: () => Promise<Record<string, unknown>>, sink: ExecSink) => Promise<void>;

export function execCall(cfg: HostdConfig, sandboxes: SandboxManager): ExecCall {
  return async (owner, id, readBody, sink) => {
    sandboxes.info(owner, id);
    const body = parseExec(await readBody(), cfg.exec);
    let seq = 0;
    const code = await sandboxes.exec(
      owner,
      id,
      body,
      (stream, line) => sink.event({ type: stream, data: line, seq: seq++, ts: Date.now() }),
      sink.signal,
      sink.flow,
      // Rich events only when asked for: the hosted API streams stdout, stderr and exit alone,
      // and clients written for it take every event but exit for output.
      body.results ? (event) => sink.event({ ...event, seq: seq++, ts: Date.now() }) : undefined,
    );
    sink.event({ type: "exit", data: code, seq: seq++, ts: Date.now() });
  };
}

export function execRoutes(cfg: HostdConfig, sandboxes: SandboxManager, route: RouteMaker): Route[] {
  const exec = execCall(cfg, sandboxes);
  return [
    route("POST", `${SB}/exec`, async (ctx) => {
      const { res } = ctx;
      const abort = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) abort.abort();
      });
      let headerSent = false;
      const event = (e: ExecEvent): void => {
        if (!headerSent) {
          res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
          headerSent = true;
        }
        // A client that went away gets nothing more; the exec is being interrupted.
        if (!res.destroyed) res.write(JSON.stringify(e) + "\n");
      };
      await exec(ctx.owner, sandboxId(ctx), () => readJsonBody(ctx.req, limits.maxJsonBytes), { event, flow: responseFlow(res), signal: abort.signal });
      res.end();
    }),
  ];
}

/** Output moves only as fast as the client reads it (docs/api.md, "Backpressure"). */
export function responseFlow(res: ServerResponse): ExecFlow {
  return {
    full: () => res.writableNeedDrain && !res.destroyed,
    drained: () => drainedOrClosed(res),
  };
}
