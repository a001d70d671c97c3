// Calls to hostd's REST API with the session's key (same origin: the dashboard is served by hostd,
// or by an edge that proxies it from a region and routes these calls).
import { getKey } from "./session.js";

export interface SandboxInfo {
  id: string;
  state: string;
  template: string;
  created_at: string;
  last_active_at: string;
  applied: { memory_mb: number; disk_mb: number; vcpus: number };
  /** Only in an admin's list of every key's sandboxes (GET /v1/sandboxes?all=true). */
  owner?: string;
}

/** A list through an edge names the regions it could not ask (down, or not answering 200). */
export interface EdgeList {
  regions_missing?: string[];
}

export interface SandboxMetrics {
  cpu_usec: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  disk_bytes: number;
  pids: number;
}

/** One NDJSON event of an exec: output, the exit code, a rich result (MIME bundle) or an exception. */
export type ExecEvent =
  | { type: "stdout" | "stderr"; data: string }
  | { type: "exit"; data: number }
  | { type: "result"; data: Record<string, string>; is_main_result: boolean }
  | { type: "error"; name: string; value: string };

/** An error answer of the API: its status, stable code and message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * Behind an edge, the region that calls with no id in them (usage, keys, capacity) go to:
 * set by the Usage and Keys pages, cleared on every other page (a list must stay merged).
 */
let pinnedRegion: string | undefined;
export function pinRegion(name: string | undefined): void {
  pinnedRegion = name;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = getKey();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(pinnedRegion ? { "x-podflare-region": pinnedRegion } : {}), ...extra };
}

async function failure(res: Response): Promise<ApiError> {
  let body: { error?: string; code?: string } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, body.code ?? "unknown", body.error ?? `${res.status} ${res.statusText}`);
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "content-type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Runs code and hands each NDJSON event to `onEvent` as it arrives; resolves with the exit code. */
export async function execStream(id: string, code: string, language: string, onEvent: (e: ExecEvent) => void): Promise<number> {
  const res = await fetch(`/v1/sandboxes/${encodeURIComponent(id)}/exec`, {
    method: "POST",
    headers: headers({ "content-type": "application/json" }),
    body: JSON.stringify({ code, language, results: true }),
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let exit = -1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (!line) continue;
      const e = JSON.parse(line) as ExecEvent;
      if (e.type === "exit") exit = Number(e.data);
      onEvent(e);
    }
  }
  return exit;
}
