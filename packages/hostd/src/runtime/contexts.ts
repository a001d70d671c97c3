// REPL contexts (E2B's): each its own `__main__` namespace in the sandbox's guest kernel,
// optionally with its own cwd. The guest holds them (so a fork child gets copies); hostd
// names them and turns the guest's answers into REST errors.
import crypto from "node:crypto";
import { PodflareError, limits, type ContextInfo, type GuestFrame, type HostFrame } from "@podflare/protocol";
import type { RuntimeSandbox } from "./types.js";

export const DEFAULT_CONTEXT = "default";
const contextIdPattern = /^(default|ctx_[0-9a-f]{24})$/;

export function newContextId(): string {
  return `ctx_${crypto.randomBytes(12).toString("hex")}`;
}

function notFound(sandboxId: string, cid: string): PodflareError {
  return new PodflareError(
    "not_found",
    `context ${cid} not found in ${sandboxId} (deleted, or lost when the REPL restarted); list them with GET /v1/sandboxes/${sandboxId}/contexts or create one with POST /v1/sandboxes/${sandboxId}/contexts`,
  );
}

/** A context id from a URL or body: 404 for anything that cannot be one. */
export function checkContextId(sandboxId: string, cid: string): string {
  if (!contextIdPattern.test(cid)) throw notFound(sandboxId, cid);
  return cid;
}

type Frame<T extends HostFrame["t"]> = Omit<Extract<HostFrame, { t: T }>, "id">;

/** Sends one frame and resolves with what `accept` makes of the answer; an `error` answer rejects. */
function ask<T>(
  rt: RuntimeSandbox,
  frame: Frame<"ctx_create"> | Frame<"ctx_restart"> | Frame<"ctx_delete"> | Frame<"ctx_list">,
  timeoutMs: number,
  accept: (h: GuestFrame) => T | undefined,
  onError: (h: Extract<GuestFrame, { t: "error" }>) => PodflareError,
): Promise<T> {
  return rt.control().then(
    (conn) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => done(new PodflareError("runtime_error", `the sandbox's guest kernel did not answer ${frame.t} within ${timeoutMs} ms; try again`)),
          timeoutMs,
        );
        const stopWatching = conn.onClose(() => done(new PodflareError("runtime_error", "the sandbox's guest kernel went away; try again")));
        const id = conn.open((f) => {
          const h = f.header as GuestFrame;
          if (h.t === "error") done(onError(h));
          else {
            const value = accept(h);
            if (value !== undefined) done(undefined, value);
          }
        });
        function done(err?: Error, value?: T): void {
          clearTimeout(timer);
          stopWatching();
          conn.release(id);
          if (err) reject(err);
          else resolve(value as T);
        }
        try {
          conn.send({ ...frame, id } as HostFrame);
        } catch {
          done(new PodflareError("runtime_error", "the sandbox's guest kernel went away; try again"));
        }
      }),
  );
}

const runtimeError = (h: { message: string }) => new PodflareError("runtime_error", h.message);

/** A context as the guest describes it; the guest is untrusted, so only strings pass. */
function checked(c: unknown): ContextInfo {
  const v = (typeof c === "object" && c !== null ? c : {}) as Record<string, unknown>;
  return { id: typeof v.id === "string" ? v.id : "", language: "python", cwd: typeof v.cwd === "string" ? v.cwd : null };
}

function contextOf(h: GuestFrame): ContextInfo | undefined {
  return h.t === "context" ? checked(h.context) : undefined;
}

export function listContexts(rt: RuntimeSandbox, timeoutMs: number): Promise<ContextInfo[]> {
  return ask(rt, { t: "ctx_list" }, timeoutMs, (h) => {
    if (h.t !== "contexts") return undefined;
    return (Array.isArray(h.contexts) ? h.contexts : []).slice(0, limits.maxContexts).map(checked);
  }, runtimeError);
}

export function createContext(rt: RuntimeSandbox, sandboxId: string, cwd: string | undefined, timeoutMs: number): Promise<ContextInfo> {
  const frame: Frame<"ctx_create"> = { t: "ctx_create", ctx: newContextId(), ...(cwd !== undefined ? { cwd } : {}) };
  return ask(rt, frame, timeoutMs, contextOf, (h) => {
    if (h.code === "busy") {
      return new PodflareError(
        "context_limit",
        `${sandboxId} has ${limits.maxContexts} contexts (the default one included), the most allowed; delete one with DELETE /v1/sandboxes/${sandboxId}/contexts/<id> first`,
      );
    }
    if (h.code === "not_found" || h.code === "not_a_directory" || h.code === "permission_denied" || h.code === "invalid_path") {
      return new PodflareError("bad_request", `${h.message}; give cwd as an existing directory in the sandbox`);
    }
    return runtimeError(h);
  });
}

export function restartContext(rt: RuntimeSandbox, sandboxId: string, cid: string, timeoutMs: number): Promise<ContextInfo> {
  return ask(rt, { t: "ctx_restart", ctx: cid }, timeoutMs, contextOf, (h) =>
    h.code === "not_found" ? notFound(sandboxId, cid) : runtimeError(h),
  );
}

export function deleteContext(rt: RuntimeSandbox, sandboxId: string, cid: string, timeoutMs: number): Promise<void> {
  if (cid === DEFAULT_CONTEXT) {
    return Promise.reject(
      new PodflareError("bad_request", `the default context cannot be deleted; restart it with POST /v1/sandboxes/${sandboxId}/contexts/default/restart`),
    );
  }
  return ask(rt, { t: "ctx_delete", ctx: cid }, timeoutMs, (h) => (h.t === "done" ? true : undefined), (h) =>
    h.code === "not_found" ? notFound(sandboxId, cid) : runtimeError(h),
  ).then(() => undefined);
}

/** 404 unless the context exists (checked before an exec in it starts streaming). */
export async function requireContext(rt: RuntimeSandbox, sandboxId: string, cid: string, timeoutMs: number): Promise<void> {
  checkContextId(sandboxId, cid);
  if (cid === DEFAULT_CONTEXT) return;
  const all = await listContexts(rt, timeoutMs);
  if (!all.some((c) => c.id === cid)) throw notFound(sandboxId, cid);
}
