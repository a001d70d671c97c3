// E2B's code interpreter (port 49999) on hostd: /execute streams our exec as the code
// interpreter's NDJSON, line by line as produced and only as fast as the client reads;
// /contexts maps onto the REST contexts of a sandbox.
import { PodflareError } from "@podflare/protocol";
import { E2bError, expectOk, sendE2bJson } from "./envelope.js";
import type { SandboxCall } from "./envd.js";
import { ExecuteTranslator, type OurEvent } from "./execute-translate.js";
import { e2bRoute, readBody, sendNoContent, type E2bRoute } from "./request.js";
import { responseFlow } from "../api/exec-routes.js";
import type { LocalApi } from "../api/local-api.js";
import { E2B_HOME, e2bPath } from "./home.js";
import { ReplHome } from "./repl-home.js";

type SandboxRoute = Omit<E2bRoute, "handle"> & { handle(ctx: SandboxCall): Promise<void> };
const route = e2bRoute as (method: string, path: string, handle: SandboxRoute["handle"]) => SandboxRoute;

/** Silence after which /execute sends its head anyway (see the route). */
const HEAD_AFTER_SILENCE_MS = 1000;

const LANGUAGES: Readonly<Record<string, "python" | "bash">> = { python: "python", bash: "bash", sh: "bash" };
const base = (id: string) => `/v1/sandboxes/${encodeURIComponent(id)}`;

export function codeInterpreterRoutes(api: LocalApi): SandboxRoute[] {
  const home = new ReplHome();
  const counts = new ExecutionCounts();
  return [
    route("GET", "/health", async (ctx) => {
      expectOk(await api.json("GET", base(ctx.sandboxId), { key: ctx.key }));
      sendE2bJson(ctx.res, 200, { status: "ok" });
    }),
    route("POST", "/execute", async (ctx) => {
      const body = await readBody(ctx.req);
      if (typeof body.code !== "string") throw new E2bError(400, "code must be a string");
      const contextId = body.context_id ?? undefined;
      const language = languageOf(body.language, contextId);
      const ours: Record<string, unknown> = { code: body.code, env: body.env_vars ?? undefined, results: true };
      // A context has its language already (the SDK never sends both).
      if (contextId === undefined) ours.language = language;
      else ours.context_id = contextId;
      // Bash is a fresh process each call: it is started in /home/user (home.ts).
      if (contextId === undefined && language === "bash") ours.cwd = E2B_HOME;
      // A client that hangs up interrupts the exec, as on the REST API.
      const abort = new AbortController();
      ctx.res.once("close", () => {
        if (!ctx.res.writableFinished) abort.abort();
      });
      // Refused before the head (a wrong sandbox: 404), as the exec itself would be.
      if (contextId === undefined && language === "python") await home.ensure(api, ctx.key, ctx.sandboxId, abort.signal);
      const translator = new ExecuteTranslator(language, () => counts.next(ctx.sandboxId, contextId === undefined ? language : String(contextId)));
      const head = (): void => {
        if (!ctx.res.headersSent && !ctx.res.destroyed) ctx.res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
      };
      // The head goes out with the first line, as the REST route's does: until then a refusal
      // (401, 404, 400) can still be answered with its status. But code that is silent for long
      // gets its head after HEAD_AFTER_SILENCE_MS: the SDK gives up on a head after
      // requestTimeoutMs (60 s by default), E2B's own server sends it at once, and code may
      // rightly compute for minutes (timeoutMs, 300 s by default, bounds the whole run).
      const silence = setTimeout(() => {
        if (ctx.res.headersSent || ctx.res.writableEnded || ctx.res.destroyed) return;
        head();
        ctx.res.flushHeaders();
      }, HEAD_AFTER_SILENCE_MS);
      const event = (e: OurEvent): void => {
        if (ctx.res.writableEnded || ctx.res.destroyed) return;
        head();
        const out = translator.event(e).map((l) => JSON.stringify(l) + "\n").join("");
        // The last line ends the answer in the same write.
        if (translator.ended) ctx.res.end(out);
        else if (out) ctx.res.write(out);
      };
      try {
        await api.exec(ctx.key, ctx.sandboxId, ours, { event, flow: responseFlow(ctx.res), signal: abort.signal });
      } catch (err) {
        // Refused after the head went out: said in the stream, as the code interpreter says errors.
        if (!ctx.res.headersSent || ctx.res.writableEnded || ctx.res.destroyed) throw err;
        ctx.res.end(JSON.stringify(refusalLine(err)) + "\n");
        return;
      } finally {
        clearTimeout(silence);
      }
      if (!ctx.res.writableEnded) ctx.res.end(translator.end().map((l) => JSON.stringify(l) + "\n").join(""));
    }),
    route("GET", "/contexts", async (ctx) => {
      const answer = await api.json("GET", `${base(ctx.sandboxId)}/contexts`, { key: ctx.key });
      expectOk(answer);
      const b = answer.body as { contexts?: unknown[] } | unknown[];
      const list = Array.isArray(b) ? b : (b.contexts ?? []);
      sendE2bJson(ctx.res, 200, list.map(contextOf));
    }),
    route("POST", "/contexts", async (ctx) => {
      const body = await readBody(ctx.req);
      const language = languageOf(body.language, undefined);
      if (language !== "python") {
        throw new E2bError(400, `${language} contexts are not supported by Podflare self-hosted: a context is a Python REPL; runCode(code, { language: "bash" }) without a context runs bash (docs/e2b.md)`);
      }
      const answer = await api.json("POST", `${base(ctx.sandboxId)}/contexts`, { key: ctx.key, body: { language, cwd: typeof body.cwd === "string" && body.cwd !== "" ? e2bPath(body.cwd) : E2B_HOME } });
      expectOk(answer);
      sendE2bJson(ctx.res, 200, contextOf(answer.body));
    }),
    route("POST", "/contexts/([^/]+)/restart", async (ctx) => {
      expectOk(await api.json("POST", `${base(ctx.sandboxId)}/contexts/${encodeURIComponent(ctx.params[0]!)}/restart`, { key: ctx.key }));
      sendNoContent(ctx.res);
    }),
    route("DELETE", "/contexts/([^/]+)", async (ctx) => {
      expectOk(await api.json("DELETE", `${base(ctx.sandboxId)}/contexts/${encodeURIComponent(ctx.params[0]!)}`, { key: ctx.key }));
      sendNoContent(ctx.res);
    }),
  ];
}

/**
 * Cells run per sandbox and context (the default context per language), as Jupyter's
 * execution_count numbers them. Kept by hostd, so they start over after its restart; the
 * memory is bounded (a forgotten context starts over too).
 */
class ExecutionCounts {
  private readonly counts = new Map<string, number>();

  next(sandboxId: string, context: string): number {
    const key = `${sandboxId} ${context}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.delete(key); // kept in use order: the oldest is forgotten first
    if (this.counts.size >= MAX_COUNTED) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(key, n);
    return n;
  }
}

const MAX_COUNTED = 10_000;

/** python (the default) and bash run here; a context brings its own language. */
function languageOf(raw: unknown, contextId: unknown): "python" | "bash" {
  if (raw === undefined || raw === null || raw === "") return "python";
  const l = typeof raw === "string" ? LANGUAGES[raw.toLowerCase()] : undefined;
  if (!l) throw new E2bError(400, `language ${JSON.stringify(raw)} is not supported by Podflare self-hosted; use "python" or "bash"${contextId ? "" : " (docs/e2b.md)"}`);
  return l;
}

/** E2B's Context {id, language, cwd} from our context answer. */
function contextOf(raw: unknown): { id: string; language: string; cwd: string } {
  const c = (raw ?? {}) as Record<string, unknown>;
  const id = c.id ?? c.context_id;
  return { id: String(id ?? ""), language: String(c.language ?? "python"), cwd: String(c.cwd ?? E2B_HOME) };
}

/** An error line for a refusal that came after the head: the SDK reads it as execution.error. */
function refusalLine(err: unknown): { type: "error"; name: string; value: string; traceback: string } {
  const message = (err as Error)?.message ?? String(err);
  const name = err instanceof PodflareError ? err.code : err instanceof E2bError ? `E2bError${err.status}` : "InternalError";
  return { type: "error", name, value: message, traceback: "" };
}
