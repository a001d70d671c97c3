// Plain REST helpers for tests: talk to the hostd the test runner started (PODFLARE_HOSTD_URL).
import assert from "node:assert/strict";

export function hostdUrl(): string {
  const url = process.env.PODFLARE_HOSTD_URL;
  assert.ok(url, "PODFLARE_HOSTD_URL is not set: run the tests with `npm test`, which starts hostd");
  return url.replace(/\/+$/, "");
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  events: { type: string; data: string | number; seq: number; ts: number }[];
}

export async function api(method: string, path: string, body?: unknown, base = hostdUrl(), headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof Uint8Array ? (body as string) : JSON.stringify(body);
    if (!(body instanceof Uint8Array) && typeof body !== "string") (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return fetch(base + path, init);
}

export async function createSandbox(body: Record<string, unknown> = {}, base = hostdUrl(), headers: Record<string, string> = {}): Promise<string> {
  const res = await api("POST", "/v1/sandboxes", body, base, headers);
  const json = (await res.json()) as { id: string; error?: string };
  assert.equal(res.status, 200, `create failed: ${JSON.stringify(json)}`);
  return json.id;
}

export async function closeSandbox(id: string, base = hostdUrl(), headers: Record<string, string> = {}): Promise<void> {
  const res = await api("DELETE", `/v1/sandboxes/${id}`, undefined, base, headers);
  await res.arrayBuffer();
}

export async function exec(
  id: string,
  code: string,
  opts: { language?: "python" | "bash"; timeout_ms?: number; env?: Record<string, string>; cwd?: string; results?: boolean } = {},
  base = hostdUrl(),
): Promise<ExecResult> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, ...opts }, base);
  const text = await res.text();
  assert.equal(res.status, 200, `exec failed with ${res.status}: ${text}`);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ExecResult["events"][number]);
  const last = events[events.length - 1];
  assert.ok(last && last.type === "exit", `the last event must be exit: ${text.slice(-500)}`);
  events.forEach((e, i) => assert.equal(e.seq, i, "seq must count up from 0"));
  return {
    stdout: events.filter((e) => e.type === "stdout").map((e) => e.data).join(""),
    stderr: events.filter((e) => e.type === "stderr").map((e) => e.data).join(""),
    exitCode: last.data as number,
    events,
  };
}

export async function bash(id: string, code: string, opts: { timeout_ms?: number; cwd?: string } = {}, base = hostdUrl()): Promise<ExecResult> {
  return exec(id, code, { ...opts, language: "bash" }, base);
}

/** Creates sandboxes for one test file and closes them all in `after`. */
export class SandboxPool {
  private readonly ids: string[] = [];
  async create(body: Record<string, unknown> = {}): Promise<string> {
    const id = await createSandbox(body);
    this.ids.push(id);
    return id;
  }
  /** Sandboxes made some other way (fork children, resumed Spaces) to close with the rest. */
  track(...ids: string[]): void {
    this.ids.push(...ids);
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.ids.splice(0).map((id) => closeSandbox(id)));
  }
}

/**
 * Starts an exec and resolves once its first output arrived (so the code is running inside),
 * with `rest`: the whole NDJSON answer (empty text if the connection broke, e.g. hostd killed).
 */
export async function execStarted(
  id: string,
  code: string,
  base = hostdUrl(),
): Promise<{ rest: Promise<string> }> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code }, base);
  assert.equal(res.status, 200, `exec failed with ${res.status}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the exec ended before its first output: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  const rest = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return text;
    }
  })();
  return { rest };
}
