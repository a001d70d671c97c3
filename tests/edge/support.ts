// Three real hostd origins (regions us-west, eu, ap; own state dirs, ports, network blocks)
// and an edge in front, for tests/edge/. Ports and state dirs use ownHostd offsets 70-79.
import assert from "node:assert/strict";
import { regionTagFor } from "@podflare/protocol";
import { startEdge, type EdgeConfig, type RunningEdge } from "@podflare/edge";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

export const key = "pf_test_key_edge_eeeeeeeeeeeeeeeeeeeeeeeeeeee";
export const auth = { authorization: `Bearer ${key}` };
/** A second key at every region: another tenant. */
export const otherKey = "pf_test_key_edge_ffffffffffffffffffffffffffff";

export interface Origin {
  name: string;
  stateDir: string;
  port: number;
  hostd: TestHostd;
}

const names = ["us-west", "eu", "ap"] as const;

export function originEnv(name: string): Record<string, string> {
  // The same key at every region (docs/edge.md, "Keys"); no warm pool: three hostds on a
  // shared 2-core test machine, and each start stays a few seconds.
  return { PODFLARE_REGION: name, PODFLARE_API_KEYS: `${key},${otherKey}`, PODFLARE_POOL_SIZE: "0", PODFLARE_TEMPLATES: "default" };
}

export async function startOrigins(): Promise<Origin[]> {
  const specs = names.map((name, i) => ({ name, ...ownHostd(`edge-${name}`, 70 + i) }));
  // One at a time: three first-run pool setups at once would crowd the machine.
  const out: Origin[] = [];
  for (const s of specs) out.push({ ...s, hostd: await startTestHostd({ stateDir: s.stateDir, port: s.port, env: originEnv(s.name) }) });
  return out;
}

export async function restartOrigin(o: Origin): Promise<void> {
  o.hostd = await startTestHostd({ stateDir: o.stateDir, port: o.port, env: originEnv(o.name) });
}

export async function startTestEdge(origins: Origin[], offset: number, probeIntervalMs: number, log: string[], extra: Partial<EdgeConfig> = {}): Promise<RunningEdge> {
  return startEdge(
    {
      ...extra,
      regions: origins.map((o) => ({ name: o.name, url: o.hostd.url })),
      addr: `127.0.0.1:${ownHostd("edge", offset).port}`,
      probeIntervalMs,
      probeTimeoutMs: 2000,
      connectTimeoutMs: 2000,
      maxCreateBodyBytes: 1024 * 1024,
    },
    { log: (m) => log.push(m), accessLog: true },
  );
}

/** Closes what the tests left at each origin (asked directly), stops it, unmounts its pool. */
export async function stopOrigins(origins: Origin[]): Promise<void> {
  for (const o of origins) {
    try {
      const list = (await (await fetch(`${o.hostd.url}/v1/sandboxes`, { headers: auth })).json()) as { sandboxes: { id: string }[] };
      for (const s of list.sandboxes) await (await fetch(`${o.hostd.url}/v1/sandboxes/${s.id}`, { method: "DELETE", headers: auth })).arrayBuffer();
      const spaces = (await (await fetch(`${o.hostd.url}/v1/spaces`, { headers: auth })).json()) as { spaces: { space_id: string }[] };
      for (const s of spaces.spaces) await (await fetch(`${o.hostd.url}/v1/spaces/${s.space_id}`, { method: "DELETE", headers: auth })).arrayBuffer();
    } catch {
      /* already stopped */
    }
    await o.hostd.stop();
    teardownStateDir(o.stateDir);
  }
}

/** The region an id belongs to, by its tag. */
export function regionOf(id: string): string | undefined {
  return names.find((n) => regionTagFor(n) === id.slice(4, 8));
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function createVia(base: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<string> {
  const res = await call(base, "POST", "/v1/sandboxes", body, headers);
  const json = (await res.json()) as { id: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.id;
}

/** Runs code and returns stdout and the exit code (asserts a 200 NDJSON answer). */
export async function run(base: string, id: string, code: string, language: "python" | "bash" = "python"): Promise<{ stdout: string; exitCode: number }> {
  const res = await call(base, "POST", `/v1/sandboxes/${id}/exec`, { code, language });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: string | number });
  return { stdout: events.filter((e) => e.type === "stdout").map((e) => e.data).join(""), exitCode: events.at(-1)!.data as number };
}
