// Background processes: /v1/sandboxes/:id/processes[/:pid[/stream|wait|stdin|close_stdin|signal|resize]].
// They run in the sandbox as children of its guest kernel (guest processes.py), outlive the
// request that started them, and are killed with the sandbox.
import { StringDecoder } from "node:string_decoder";
import { PodflareError, limits, processLimits, type ProcessInfo, type ProcessSelector } from "@podflare/protocol";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { guestRequest } from "../runtime/guest-request.js";
import { pipeGuestStream } from "./guest-stream.js";
import { readJsonBody, sendJson, sendNoContent } from "./http.js";
import { parseInput, parseSelector, parseSignal, parseSize, parseStart } from "./validate.js";
import { sandboxId, type Route, type RouteContext, type RouteMaker } from "./route.js";

export function processRoutes(cfg: HostdConfig, sandboxes: SandboxManager, route: RouteMaker): Route[] {
  const P = "/v1/sandboxes/([^/]+)/processes";
  const timeout = cfg.guestReplyTimeoutMs;
  const guest = (ctx: RouteContext, hold = false) => sandboxes.openGuest(ctx.owner, sandboxId(ctx), hold);
  const sel = (ctx: RouteContext): ProcessSelector => parseSelector(ctx.params[1]!);
  const body = async (ctx: RouteContext) => {
    sandboxes.info(ctx.owner, sandboxId(ctx)); // 404 before reading the body
    return readJsonBody(ctx.req, limits.maxJsonBytes);
  };

  return [
    route("POST", P, async (ctx) => {
      const req = parseStart(await body(ctx));
      const answer = await guestRequest(await guest(ctx), {
        t: "proc_start",
        cmd: req.cmd,
        args: req.args ?? null,
        ...(req.env ? { env: req.env } : {}),
        ...(req.cwd ? { cwd: req.cwd } : {}),
        ...(req.tag ? { tag: req.tag } : {}),
        stdin: req.stdin === true,
        ...(req.pty ? { pty: req.pty } : {}),
        max_running: processLimits.maxRunning,
        buffer_bytes: processLimits.bufferBytes,
        ...(req.lossless ? { hold_ms: LOSSLESS_FIRST_READER_MS } : {}),
      }, ["proc_started"], timeout);
      sendJson(ctx.res, 200, answer.process);
    }),

    route("GET", P, async (ctx) => {
      const answer = await guestRequest(await guest(ctx), { t: "proc_list" }, ["proc_list"], timeout);
      sendJson(ctx.res, 200, { processes: answer.processes });
    }),

    route("GET", `${P}/([^/]+)`, async (ctx) => {
      const answer = await guestRequest(await guest(ctx), { t: "proc_info", ...sel(ctx) }, ["proc_info"], timeout);
      sendJson(ctx.res, 200, answer.process);
    }),

    route("DELETE", `${P}/([^/]+)`, async (ctx) => {
      await guestRequest(await guest(ctx), { t: "proc_signal", signal: 9, ...sel(ctx) }, ["done"], timeout);
      sendNoContent(ctx.res);
    }),

    route("GET", `${P}/([^/]+)/stream`, async (ctx) => {
      const s = sel(ctx);
      const from = ctx.url.searchParams.get("from") === "now" ? "now" : "start";
      const encoding = ctx.url.searchParams.get("encoding") ?? "utf8";
      if (encoding !== "utf8" && encoding !== "base64") throw new PodflareError("bad_request", `encoding must be utf8 or base64, got ${JSON.stringify(encoding)}`);
      // lossless: the process waits for this reader instead of dropping what it has not read.
      const lossless = ctx.url.searchParams.get("lossless") ?? "false";
      if (lossless !== "true" && lossless !== "false") throw new PodflareError("bad_request", `lossless must be true or false, got ${JSON.stringify(lossless)}`);
      await streamProcess(ctx, await guest(ctx, true), s, { from, hold: lossless === "true" }, encoding);
    }),

    // Long-poll: answers once the process has exited (no timeout; the client may hang up).
    route("POST", `${P}/([^/]+)/wait`, async (ctx) => {
      const s = sel(ctx);
      const conn = await guest(ctx, true);
      ctx.res.on("close", () => conn.close());
      const answer = await guestRequest(conn, { t: "proc_wait", ...s }, ["proc_info"], 2 ** 31 - 1);
      sendJson(ctx.res, 200, answer.process);
    }),

    route("POST", `${P}/([^/]+)/stdin`, async (ctx) => {
      const data = parseInput(await body(ctx));
      await guestRequest(await guest(ctx), { t: "proc_input", ...sel(ctx) }, ["done"], timeout, data);
      sendNoContent(ctx.res);
    }),

    route("POST", `${P}/([^/]+)/close_stdin`, async (ctx) => {
      await guestRequest(await guest(ctx), { t: "proc_close_stdin", ...sel(ctx) }, ["done"], timeout);
      sendNoContent(ctx.res);
    }),

    route("POST", `${P}/([^/]+)/signal`, async (ctx) => {
      const signal = parseSignal(await body(ctx));
      await guestRequest(await guest(ctx), { t: "proc_signal", signal, ...sel(ctx) }, ["done"], timeout);
      sendNoContent(ctx.res);
    }),

    // Without Upgrade: websocket (api/pty-routes.ts takes those).
    route("GET", "/v1/sandboxes/([^/]+)/pty", (ctx) => {
      sandboxes.info(ctx.owner, sandboxId(ctx));
      throw new PodflareError("bad_request", "the PTY is a WebSocket: connect with Upgrade: websocket (the SDKs' sandbox.pty), or start a process with pty: {rows, cols} over REST");
    }),

    route("POST", `${P}/([^/]+)/resize`, async (ctx) => {
      const size = parseSize(await body(ctx));
      await guestRequest(await guest(ctx), { t: "proc_resize", ...size, ...sel(ctx) }, ["done"], timeout);
      sendNoContent(ctx.res);
    }),
  ];
}

// How long a process started with `lossless` keeps all its output for its first lossless stream.
const LOSSLESS_FIRST_READER_MS = 10_000;

/** NDJSON: `start` (the process), its recent then live output, and `exit`. */
async function streamProcess(
  ctx: RouteContext,
  conn: Awaited<ReturnType<SandboxManager["openGuest"]>>,
  s: ProcessSelector,
  how: { from: "start" | "now"; hold: boolean },
  encoding: "utf8" | "base64",
): Promise<void> {
  const decoders = new Map<string, StringDecoder>();
  const text = (stream: string, b: Buffer) => {
    let d = decoders.get(stream);
    if (!d) decoders.set(stream, (d = new StringDecoder("utf8")));
    return d.write(b);
  };
  await pipeGuestStream(ctx.res, conn, { t: "proc_connect", ...how, ...s }, (f) => {
    const h = f.header;
    if (h.t === "proc_info") return { events: [{ type: "start", process: h.process as ProcessInfo }], end: false };
    if (h.t === "proc_out" && encoding === "base64") {
      // Exact bytes (a PTY's escape sequences, binary output), e.g. for E2B's bytes fields.
      return { events: [{ type: h.stream, data_base64: f.body.toString("base64") }], end: false };
    }
    if (h.t === "proc_out") {
      const data = text(h.stream, f.body);
      return { events: data ? [{ type: h.stream, data }] : [], end: false };
    }
    if (h.t === "proc_exit") {
      const rest = [...decoders].map(([stream, d]) => ({ type: stream, data: d.end() })).filter((e) => e.data);
      return { events: [...rest, { type: "exit", exit_code: h.exit_code, signal: h.signal }], end: true };
    }
    return { events: [], end: true };
  });
}
