// The edge (issue 18) in front of three real hostd origins (regions us-west, eu, ap): creates
// pinned and unpinned, ids routed by their region tag, exec streaming and a port proxy
// WebSocket through it, fork, freeze and resume through both SDKs, 4xx not retried, and one
// origin killed mid-run and restarted. The failover rule's corner cases (a 503, a create read
// and then dropped) are in packages/edge/src/failover.test.ts against stand-in origins.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox as E2bSandbox } from "e2b";
import { RegionUnavailableError, Sandbox, UnavailableError } from "podflare";
import type { RunningEdge } from "@podflare/edge";
import { regionTagFor } from "@podflare/protocol";
import { eventually, until } from "../support/host.js";
import { wsConnect, wsFrame, wsRead } from "../support/websocket.js";
import { auth, call, createVia, key, otherKey, regionOf, restartOrigin, run, startOrigins, startTestEdge, stopOrigins, type Origin } from "./support.js";
import net from "node:net";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let origins: Origin[] = [];
let edge: RunningEdge;
const edgeLog: string[] = [];
const origin = (name: string) => origins.find((o) => o.name === name)!;

before(async () => {
  origins = await startOrigins();
  edge = await startTestEdge(origins, 73, 200, edgeLog);
});
after(async () => {
  await edge?.close();
  await stopOrigins(origins);
});

/** The Python SDK against the edge, without blocking this process (the edge runs in it). */
function runPython(script: string, url: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("/usr/bin/python3", ["-c", script, ...args], { env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python"), PODFLARE_HOSTD_URL: url } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d));
    p.stderr.on("data", (d: Buffer) => (stderr += d));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function onOrigin(name: string, id: string): Promise<number> {
  const res = await call(origin(name).hostd.url, "GET", `/v1/sandboxes/${id}`);
  await res.arrayBuffer();
  return res.status;
}

test("GET /v1/regions: three healthy regions with probe RTT, id tag and the caller's capacity; 401 without a key", async () => {
  const res = await call(edge.url, "GET", "/v1/regions");
  assert.equal(res.status, 200);
  const body = (await res.json()) as { regions: { name: string; healthy: boolean; rtt_ms: number; tag: string; capacity: { sandboxes: number } }[] };
  assert.deepEqual(body.regions.map((r) => r.name), ["us-west", "eu", "ap"]);
  for (const r of body.regions) {
    assert.equal(r.healthy, true);
    assert.ok(r.rtt_ms > 0);
    assert.equal(r.tag, regionTagFor(r.name));
    assert.equal(typeof r.capacity.sandboxes, "number");
  }
  const anon = await fetch(`${edge.url}/v1/regions`);
  assert.equal(anon.status, 401);
  const metrics = await (await fetch(`${edge.url}/metrics`)).text();
  assert.match(metrics, /podflare_edge_region_healthy\{region="eu"\} 1/);
  assert.match(metrics, /podflare_edge_region_rtt_ms\{region="ap"\} [0-9.]+/);
});

test("creates: pinned by body, header or the SDK's region land there; unpinned in a healthy region; the key works at every region", async () => {
  for (const name of ["us-west", "eu", "ap"]) {
    const byBody = await createVia(edge.url, { region: name });
    assert.equal(regionOf(byBody), name);
    assert.equal(await onOrigin(name, byBody), 200, "the sandbox lives at the region asked for");
    const byHeader = await createVia(edge.url, {}, { "x-podflare-region": name });
    assert.equal(regionOf(byHeader), name);
    const sb = await Sandbox.create({ host: edge.url, apiKey: key, region: name });
    assert.equal(regionOf(sb.id), name);
    assert.equal((await sb.runCode("print(6 * 7)")).stdout, "42\n");
    await sb.close();
    for (const id of [byBody, byHeader]) assert.equal((await call(edge.url, "DELETE", `/v1/sandboxes/${id}`)).status, 204);
  }
  const unpinned = await createVia(edge.url);
  assert.ok(regionOf(unpinned));
  assert.equal((await run(edge.url, unpinned, "print('hi')")).stdout, "hi\n");
  await call(edge.url, "DELETE", `/v1/sandboxes/${unpinned}`);
  const noKey = await fetch(`${edge.url}/v1/sandboxes`, { method: "POST", body: "{}" });
  assert.equal(noKey.status, 401);
  assert.equal(((await noKey.json()) as { code: string }).code, "unauthorized");
});

test("GET /v1/sandboxes through the edge lists every region's; with X-Podflare-Region only that region's", async () => {
  const west = await createVia(edge.url, { region: "us-west" });
  const ap = await createVia(edge.url, { region: "ap" });
  const ids = async (headers: Record<string, string> = {}) => {
    const res = await call(edge.url, "GET", "/v1/sandboxes", undefined, headers);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { sandboxes: { id: string }[]; regions_missing?: string[] };
    assert.equal(body.regions_missing, undefined);
    return body.sandboxes.map((s) => s.id);
  };
  const all = await ids();
  assert.ok(all.includes(west) && all.includes(ap), "both regions' sandboxes are listed");
  const onlyAp = await ids({ "x-podflare-region": "ap" });
  assert.ok(onlyAp.includes(ap) && !onlyAp.includes(west));
  const anon = await fetch(`${edge.url}/v1/sandboxes`);
  assert.equal(anon.status, 401, "a list without a key is refused, not empty");
  for (const id of [west, ap]) await call(edge.url, "DELETE", `/v1/sandboxes/${id}`);
});

test("a 4xx from the origin is relayed once, never retried in another region", async () => {
  const before = await (await fetch(`${edge.url}/metrics`)).text();
  const res = await call(edge.url, "POST", "/v1/sandboxes", { template: "no-such-template" });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, "template_not_found");
  const bad = await call(edge.url, "POST", "/v1/sandboxes", "{not json");
  assert.equal(bad.status, 400);
  const unknown = await call(edge.url, "POST", "/v1/sandboxes", { region: "mars" });
  assert.equal(unknown.status, 400);
  assert.equal(((await unknown.json()) as { code: string }).code, "region_unknown");
  const after = await (await fetch(`${edge.url}/metrics`)).text();
  const failovers = (t: string) => [...t.matchAll(/^podflare_edge_failovers_total\{[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  assert.equal(failovers(after), failovers(before), "no create was sent to a second region");
});

test("exec streams through the edge: the first stdout line arrives before the exec ends", async () => {
  const id = await createVia(edge.url, { region: "eu" });
  const res = await call(edge.url, "POST", `/v1/sandboxes/${id}/exec`, {
    code: "echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second",
    language: "bash",
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  // hostd's answer went on as it came (its keep-alive terms hold for the edge's callers too).
  assert.equal(res.headers.get("keep-alive"), "timeout=65");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    assert.ok(!done, "the exec ended before its first line came through");
    text += decoder.decode(value, { stream: true });
  }
  assert.deepEqual(JSON.parse(text.split("\n")[0]!), { ...JSON.parse(text.split("\n")[0]!), type: "stdout", data: "first\n" });
  // The exec is still waiting for /tmp/go: only now is it written, through the edge too.
  const put = await call(edge.url, "PUT", `/v1/sandboxes/${id}/files?path=/tmp/go`, "go");
  assert.equal(put.status, 204);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: string | number });
  assert.deepEqual(events.map((e) => e.data), ["first\n", "second\n", 0]);
  await call(edge.url, "DELETE", `/v1/sandboxes/${id}`);
});

test("the port proxy's WebSocket goes through the edge to the sandbox's region", async () => {
  const id = await createVia(edge.url, { region: "ap" });
  const put = await call(edge.url, "PUT", `/v1/sandboxes/${id}/files?path=/srv/port_servers.py`, fs.readFileSync(path.join(root, "tests/integration/fixtures/port_servers.py")).toString());
  assert.equal(put.status, 204);
  assert.equal((await run(edge.url, id, "nohup python3 /srv/port_servers.py ws 8002 > /tmp/ws.log 2>&1 &", "bash")).exitCode, 0);
  const url = `${edge.url}/v1/sandboxes/${id}/ports/8002/chat`;
  const ws = await until(async () => {
    const a = await wsConnect(url, auth);
    return a.status === 101 ? a : undefined;
  }, "the WebSocket server inside did not come up");
  const socket = ws.socket!;
  socket.write(wsFrame(1, Buffer.from("hello through the edge")));
  const frame = await wsRead(socket);
  assert.equal(frame.payload.toString(), "hello through the edge");
  socket.destroy();
  const refused = await wsConnect(url, {});
  assert.equal(refused.status, 401, "the origin's refusal comes back through the edge");
  // Plain HTTP to a port: the app inside learns the host the caller used (the edge's, not the
  // origin's internal address), and repeated response headers come back whole.
  assert.equal((await run(edge.url, id, "nohup python3 /srv/port_servers.py echo 8001 > /tmp/echo.log 2>&1 &", "bash")).exitCode, 0);
  const echo = await until(async () => {
    const res = await call(edge.url, "GET", `/v1/sandboxes/${id}/ports/8001/hello`);
    if (res.status !== 200) return void (await res.arrayBuffer());
    return res;
  }, "the echo server inside did not come up");
  // (each cookie scoped to the port's own URL by the origin's port proxy)
  const mount = `/v1/sandboxes/${id}/ports/8001`;
  assert.deepEqual(echo.headers.getSetCookie(), [`a=1; Path=${mount}/`, `b=2; Path=${mount}/`]);
  const seen = new Map(((await echo.json()) as { headers: [string, string][] }).headers.map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(seen.get("x-forwarded-host"), new URL(edge.url).host);
  assert.ok(!seen.has("authorization"));
  await call(edge.url, "DELETE", `/v1/sandboxes/${id}`);
});

test("fork (TS SDK), freeze and Sandbox.resume(space_id, region=...) (Python SDK) through the edge stay in the region", async () => {
  const sb = await Sandbox.create({ host: edge.url, apiKey: key, region: "eu" });
  await sb.runCode("x = 41");
  const [child] = await sb.fork(1);
  assert.equal(regionOf(child!.id), "eu");
  assert.equal((await child!.runCode("x += 1; print(x)")).stdout, "42\n");
  await child!.close();
  await sb.close();

  const script = [
    "import sys",
    "from podflare import Sandbox",
    "sb = Sandbox(region='ap', api_key=sys.argv[1])",
    "sb.run_code('y = 7')",
    "space = sb.freeze()",
    "again = Sandbox.resume(space, region='ap', api_key=sys.argv[1])",
    "print(space, again.id, again.run_code('print(y * 6)').stdout.strip())",
    "again.close()",
  ].join("\n");
  const r = await runPython(script, edge.url, [key]);
  assert.equal(r.status, 0, `${r.stderr}\nedge log:\n${edgeLog.slice(-15).join("\n")}`);
  const [space, resumed, out] = r.stdout.trim().split(" ");
  assert.match(space!, /^spc_[0-9a-f]{32}$/);
  assert.equal(regionOf(space!), "ap", "a Space id carries its region's tag");
  assert.equal(regionOf(resumed!), "ap");
  assert.equal(out, "42");
});

test("E2B's SDK through the edge: a sandbox in any region answers its envd and code-interpreter calls (routed by E2b-Sandbox-Id)", async () => {
  for (const region of ["us-west", "eu", "ap"]) {
    const id = await createVia(edge.url, { region });
    const e2b = await E2bSandbox.connect(id, { apiKey: key, apiUrl: edge.url, sandboxUrl: edge.url });
    for (let i = 0; i < 5; i++) assert.equal((await e2b.commands.run("hostname")).stdout, `${id}\n`, `region ${region}, call ${i}`);
    await e2b.files.write("/root/e2b-edge.txt", region);
    assert.equal(await e2b.files.read("/root/e2b-edge.txt"), region);
    await call(edge.url, "DELETE", `/v1/sandboxes/${id}`);
  }
  // E2B's create goes through the edge as a create: pinned by X-Podflare-Region.
  const res = await call(edge.url, "POST", "/v2/sandboxes", { templateID: "base" }, { "x-podflare-region": "eu", "x-api-key": key });
  const made = (await res.json()) as { sandboxID: string };
  assert.equal(res.status, 201, JSON.stringify(made));
  assert.equal(regionOf(made.sandboxID), "eu");
  await call(edge.url, "DELETE", `/v1/sandboxes/${made.sandboxID}`);
  // Its access tokens never reach the edge's log.
  assert.ok(!edgeLog.some((l) => /x-access-token":"(?!\[redacted\])/i.test(l)), "an E2B access token was logged");
});

test("an MCP session opened through the edge stays in its region: its id carries the region's tag, and every call reaches it (a quarter answered mcp_session_not_found)", async () => {
  const mcp = { accept: "application/json, text/event-stream" };
  const init = await call(edge.url, "POST", "/mcp", { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "edge-test", version: "1" } } }, mcp);
  assert.equal(init.status, 200, await init.clone().text());
  await init.arrayBuffer();
  const sid = init.headers.get("mcp-session-id")!;
  assert.match(sid, /^mcp_[0-9a-f]{32}$/);
  const home = origins.find((o) => regionTagFor(o.name) === sid.slice(4, 8));
  assert.ok(home, `the session id ${sid} names no region's tag`);
  const session = { ...mcp, "mcp-session-id": sid };
  const sent = await call(edge.url, "POST", "/mcp", { jsonrpc: "2.0", method: "notifications/initialized" }, session);
  await sent.arrayBuffer();
  for (let i = 1; i <= 30; i++) {
    const r = await call(edge.url, "POST", "/mcp", { jsonrpc: "2.0", id: i, method: "tools/list" }, session);
    const text = await r.text();
    assert.equal(r.status, 200, `call ${i}: ${text}`);
    assert.match(text, /run_python/);
  }
  const del = await call(edge.url, "DELETE", "/mcp", undefined, session);
  assert.equal(del.status, 204);
});

test("stopping an edge while a create is under way: the caller gets its one answer; a call after the stop began gets 503", async () => {
  const log: string[] = [];
  const stopping = await startTestEdge(origins, 84, 200, log);
  const eu = origin("eu");
  eu.hostd.proc.kill("SIGSTOP");
  let resumed = false;
  try {
    const created = call(stopping.url, "POST", "/v1/sandboxes", { region: "eu" }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id?: string } }));
    await until(async () => stopping.unanswered() === 1 || undefined, "the edge to take the create");
    const closed = stopping.close();
    const late = await call(stopping.url, "GET", "/v1/regions").then((r) => r.status, () => 0);
    assert.ok(late === 503 || late === 0, `a call after the stop began answered ${late}`);
    eu.hostd.proc.kill("SIGCONT");
    resumed = true;
    const answer = await created;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await closed;
    assert.equal(await onOrigin("eu", answer.body.id!), 200, "the create answered 200 made its sandbox");
    const list = (await (await call(eu.hostd.url, "GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[] };
    assert.equal(list.sandboxes.filter((s) => s.id === answer.body.id).length, 1);
    await call(eu.hostd.url, "DELETE", `/v1/sandboxes/${answer.body.id}`);
  } finally {
    if (!resumed) eu.hostd.proc.kill("SIGCONT");
  }
});

/**
 * `n` uploads through `base` that declare 1 MB and send 10 bytes: each holds an origin
 * connection. `credentials`: the header lines of upload i, or one Authorization for all.
 */
async function heldUploads(base: string, id: string, n: number, credentials: string | ((i: number) => string)): Promise<{ sockets: net.Socket[]; answers: string[] }> {
  const lines = typeof credentials === "string" ? () => `Authorization: ${credentials}\r\n` : credentials;
  const u = new URL(base);
  const sockets: net.Socket[] = [];
  const answers: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(Number(u.port), u.hostname);
    answers.push("");
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => (answers[i] += d.toString("latin1")));
    s.write(`PUT /v1/sandboxes/${id}/files?path=/tmp/held-${i} HTTP/1.1\r\nHost: ${u.host}\r\n${lines(i)}Content-Length: 1000000\r\n\r\n0123456789`);
    sockets.push(s);
  }
  return { sockets, answers };
}

test("one key's calls held open through the edge are capped at its share: its next call gets 429, another key's calls still reach the origin", async () => {
  // One key's slow uploads took every connection the edge keeps to a region, and every other
  // key's calls there hung or failed (outside tester th).
  const log: string[] = [];
  const capped = await startTestEdge(origins, 85, 200, log, { callsPerKey: 3 });
  const held = { sockets: [] as net.Socket[], answers: [] as string[] };
  try {
    const id = await createVia(capped.url, { region: "eu" });
    Object.assign(held, await heldUploads(capped.url, id, 3, `Bearer ${key}`));
    await eventually(async () => {
      const res = await call(capped.url, "GET", `/v1/sandboxes/${id}`);
      const body = await res.text();
      return res.status === 429 && /PODFLARE_EDGE_CALLS_PER_KEY/.test(body) && res.headers.get("retry-after") === "1";
    }, "the key's fourth call was not refused 429 at its share", 10_000);
    // Another tenant: its call reaches the origin (which answers, as for any stranger's id, 404).
    const other = await call(capped.url, "GET", `/v1/sandboxes/${id}`, undefined, { authorization: `Bearer ${otherKey}` });
    await other.arrayBuffer();
    assert.equal(other.status, 404);
    for (const s of held.sockets) s.destroy();
    await eventually(async () => (await call(capped.url, "GET", `/v1/sandboxes/${id}`)).status === 200, "the key stayed refused after its calls ended", 10_000);
    await (await call(capped.url, "DELETE", `/v1/sandboxes/${id}`)).arrayBuffer();
  } finally {
    for (const s of held.sockets) s.destroy();
    await capped.close();
  }
});

test("one key spelt many ways (bEaReR, extra blanks, a throwaway X-API-Key first) is one caller at the edge: its share holds", async () => {
  // The edge named a caller by the raw header, hostd by the key it authenticates: a junk
  // X-API-Key before the real Authorization, or Bearer's case varied, made one key as many
  // callers as it liked and took every connection to the region (outside tester tn).
  const log: string[] = [];
  const capped = await startTestEdge(origins, 88, 200, log, { callsPerKey: 3 });
  const held = { sockets: [] as net.Socket[], answers: [] as string[] };
  const spellings = [`X-API-Key: junk-0\r\nAuthorization: Bearer ${key}\r\n`, `Authorization: bEaReR ${key}\r\n`, `Authorization: BEARER \t ${key}  \r\n`];
  try {
    const id = await createVia(capped.url, { region: "eu" });
    Object.assign(held, await heldUploads(capped.url, id, 3, (i) => spellings[i]!));
    await eventually(async () => {
      const res = await call(capped.url, "GET", `/v1/sandboxes/${id}`, undefined, { "x-api-key": "junk-3", authorization: `bearer ${key}` });
      const body = await res.text();
      return res.status === 429 && /PODFLARE_EDGE_CALLS_PER_KEY/.test(body);
    }, () => `the key's fourth call, spelt a fourth way, was not refused 429 at its share (uploads: ${held.answers.map((a) => a.split("\r\n")[0] || "open").join("; ")})`, 10_000);
    // hostd took every spelling as the key: none of the held uploads was refused.
    assert.ok(held.answers.every((a) => a === ""), `an upload was answered: ${held.answers.map((a) => a.split("\r\n")[0]).join("; ")}`);
    for (const s of held.sockets) s.destroy();
    await eventually(async () => (await call(capped.url, "GET", `/v1/sandboxes/${id}`)).status === 200, "the key stayed refused after its calls ended", 10_000);
    await (await call(capped.url, "DELETE", `/v1/sandboxes/${id}`)).arrayBuffer();
  } finally {
    for (const s of held.sockets) s.destroy();
    await capped.close();
  }
});

test("every connection the edge keeps to a region in use: a call waits at most the connect timeout, then 503 unavailable; the region stays healthy", async () => {
  // Calls waiting for a connection waited forever (outside tester th).
  const log: string[] = [];
  const small = await startTestEdge(origins, 86, 200, log, { maxSocketsPerRegion: 2, callsPerKey: 10 });
  const held = { sockets: [] as net.Socket[], answers: [] as string[] };
  try {
    const id = await createVia(small.url, { region: "ap" });
    Object.assign(held, await heldUploads(small.url, id, 2, `Bearer ${key}`));
    await eventually(async () => {
      const res = await call(small.url, "GET", `/v1/sandboxes/${id}`, undefined, { authorization: `Bearer ${otherKey}` });
      const body = await res.text();
      return res.status === 503 && /every connection the edge keeps to region ap was in use/.test(body);
    }, "a call with every connection in use was not answered 503", 20_000);
    const regions = (await (await call(small.url, "GET", "/v1/regions")).json()) as { regions: { name: string; healthy: boolean }[] };
    assert.equal(regions.regions.find((r) => r.name === "ap")?.healthy, true, "a busy pool marked the region down");
    for (const s of held.sockets) s.destroy();
    await eventually(async () => (await call(small.url, "GET", `/v1/sandboxes/${id}`)).status === 200, "calls did not go through after the held ones ended", 10_000);
    await (await call(small.url, "DELETE", `/v1/sandboxes/${id}`)).arrayBuffer();
  } finally {
    for (const s of held.sockets) s.destroy();
    await small.close();
  }
});

test("merged lists count against the caller's share of the bytes the edge holds for lists: past it, 429 naming the fix; one region's list is still served", async () => {
  // Merged lists were held whole, without bound, until the caller read them: 992 unread GETs
  // grew the edge by 67 MB (outside tester th).
  const log: string[] = [];
  const tight = await startTestEdge(origins, 87, 200, log, { listBytesPerCaller: 100 * 1024 });
  const made: string[] = [];
  try {
    const meta = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, "x".repeat(1000)]));
    for (let i = 0; i < 8; i++) made.push(await createVia(tight.url, { region: "us-west", metadata: meta }));
    const merged = await call(tight.url, "GET", "/v1/sandboxes");
    const body = (await merged.json()) as { code: string; error: string };
    assert.equal(merged.status, 429, JSON.stringify(body).slice(0, 300));
    assert.equal(body.code, "concurrency_limit");
    assert.match(body.error, /merged lists waiting to be read.*X-Podflare-Region/);
    assert.equal(merged.headers.get("retry-after"), "1");
    const one = await call(tight.url, "GET", "/v1/sandboxes", undefined, { "x-podflare-region": "us-west" });
    const list = (await one.json()) as { sandboxes: { id: string }[] };
    assert.equal(one.status, 200);
    for (const id of made) assert.ok(list.sandboxes.some((s) => s.id === id), `${id} missing from us-west's list`);
  } finally {
    for (const id of made) await (await call(tight.url, "DELETE", `/v1/sandboxes/${id}`)).arrayBuffer();
    await tight.close();
  }
  // The default share (16 MiB) serves the same list merged.
  const again = await call(edge.url, "GET", "/v1/sandboxes");
  await again.arrayBuffer();
  assert.equal(again.status, 200);
});

test("the edge's log has no key in it", () => {
  assert.ok(edgeLog.some((l) => l.includes("/v1/sandboxes")), "the access log was on");
  assert.ok(!edgeLog.some((l) => l.includes(key)), "a key reached the edge's log");
});

test("kill one origin mid-run: its ids get 503 region_unavailable, creates go elsewhere, and it all works again after a restart", async () => {
  const apId = await createVia(edge.url, { region: "ap" });
  await run(edge.url, apId, "z = 'kept'");
  const euId = await createVia(edge.url, { region: "eu" });
  // A second edge that probes rarely and believes ap is nearest: its next unpinned create
  // meets the dead origin itself and must fail over (the connection was refused, nothing sent).
  const slowLog: string[] = [];
  const slow = await startTestEdge(origins, 74, 600_000, slowLog);
  try {
    const ap = origin("ap");
    await ap.hostd.stop("SIGKILL");
    slow.regions.byName("ap")!.rttMs = 0;
    const failedOver = await createVia(slow.url);
    assert.notEqual(regionOf(failedOver), "ap");
    assert.equal(slow.regions.byName("ap")!.healthy, false);
    assert.match(await (await fetch(`${slow.url}/metrics`)).text(), /podflare_edge_failovers_total\{region="ap"\} 1/);
    await call(edge.url, "DELETE", `/v1/sandboxes/${failedOver}`);

    await eventually(() => !edge.regions.byName("ap")!.healthy, "the edge did not notice ap is down", 10_000);
    const res = await call(edge.url, "POST", `/v1/sandboxes/${apId}/exec`, { code: "print(z)" });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, "region_unavailable");
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
    await assert.rejects(Sandbox.connect(apId, { host: edge.url, apiKey: key }), (err: unknown) => {
      assert.ok(err instanceof RegionUnavailableError && err instanceof UnavailableError, String(err));
      assert.equal(err.status, 503);
      assert.ok((err.retryAfterS ?? 0) >= 1);
      return true;
    });
    const py = await runPython(
      [
        "import sys",
        "from podflare import Sandbox, RegionUnavailableError, UnavailableError",
        "try:",
        "    Sandbox.connect(sys.argv[2], api_key=sys.argv[1])",
        "except RegionUnavailableError as e:",
        "    print(e.status, e.code, isinstance(e, UnavailableError), e.retry_after_s >= 1)",
      ].join("\n"),
      edge.url,
      [key, apId],
    );
    assert.equal(py.stdout.trim(), "503 region_unavailable True True", py.stderr);
    const pinned = await call(edge.url, "POST", "/v1/sandboxes", { region: "ap" });
    assert.equal(pinned.status, 503);
    assert.equal(((await pinned.json()) as { code: string }).code, "region_unavailable");
    for (let i = 0; i < 3; i++) {
      const id = await createVia(edge.url);
      assert.notEqual(regionOf(id), "ap");
      await call(edge.url, "DELETE", `/v1/sandboxes/${id}`);
    }
    assert.equal((await run(edge.url, euId, "print('eu fine')")).stdout, "eu fine\n", "other regions are unaffected");
    const list = (await (await call(edge.url, "GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[]; regions_missing?: string[] };
    assert.deepEqual(list.regions_missing, ["ap"], "a list while a region is down says which is missing");
    assert.ok(list.sandboxes.some((s) => s.id === euId));

    await restartOrigin(ap);
    await eventually(() => edge.regions.byName("ap")!.healthy, "the edge did not see ap come back", 10_000);
    assert.equal((await run(edge.url, apId, "print(z)")).stdout, "kept\n", "the sandbox works again through the edge");
    assert.equal(regionOf(await createVia(edge.url, { region: "ap" })), "ap");
  } finally {
    await slow.close();
  }
});
