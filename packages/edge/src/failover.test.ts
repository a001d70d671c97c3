// The failover rule against stand-in origins on loopback (what a real hostd cannot be made
// to do on cue: answer 503, or read a create and drop the connection). tests/edge/ runs the
// same paths against real hostds.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { regionTagFor } from "@podflare/protocol";
import { startEdge, type RunningEdge } from "./index.js";

// drop-reused: a request on a connection that carried one before is dropped unanswered, as if
// the origin had closed that idle connection just as the edge took it.
type Behaviour = "ok" | "503" | "400" | "drop-after-read" | "drop-reused";

interface StandIn {
  name: string;
  url: string;
  creates: number;
  /** Method and path of each request other than health probes, answered or not. */
  seen: string[];
  behaviour: Behaviour;
  server: http.Server;
}

async function standIn(name: string, healthDelayMs: number): Promise<StandIn> {
  const s: StandIn = { name, url: "", creates: 0, seen: [], behaviour: "ok", server: http.createServer() };
  const served = new WeakMap<object, number>();
  s.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const before = served.get(req.socket) ?? 0;
    served.set(req.socket, before + 1);
    if (req.url === "/v1/healthz") {
      setTimeout(() => res.writeHead(200, { "x-podflare-region": name, "x-podflare-region-tag": regionTagFor(name) }).end("ok"), healthDelayMs);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      s.seen.push(`${req.method} ${req.url}`);
      if (req.url === "/v1/sandboxes") s.creates++;
      if (s.behaviour === "drop-after-read" || (s.behaviour === "drop-reused" && before > 0)) return req.socket.destroy();
      const status = s.behaviour === "503" || s.behaviour === "400" ? Number(s.behaviour) : 200;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ region: name, path: req.url, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => s.server.listen(0, "127.0.0.1", () => r()));
  s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
  return s;
}

/** Polls `done` every 20 ms until it is true or `deadlineMs` has passed. */
async function pollUntil(done: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

const near = await standIn("near", 0);
const far = await standIn("far", 40);
const edge: RunningEdge = await startEdge(
  { regions: [{ name: "near", url: near.url }, { name: "far", url: far.url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096 },
  { log: () => undefined },
);
after(async () => {
  await edge.close();
  for (const s of [near, far]) {
    s.server.closeAllConnections();
    s.server.close();
  }
});

async function create(body: unknown = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${edge.url}/v1/sandboxes`, { method: "POST", body: JSON.stringify(body), headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

function reset(): void {
  for (const s of [near, far]) {
    s.creates = 0;
    s.seen = [];
    s.behaviour = "ok";
  }
  for (const r of edge.regions.list) r.healthy = true;
}

test("an unpinned create goes to the nearest healthy region; a pinned one where it says", async () => {
  reset();
  assert.deepEqual(edge.regions.nearest().map((r) => r.name), ["near", "far"]);
  assert.equal((await create()).body.region, "near");
  assert.equal((await create({ region: "far" })).body.region, "far");
  assert.equal((await create({}, { "x-podflare-region": "far" })).body.region, "far");
});

test("a 5xx answer fails over to the next region; the caller sees one answer", async () => {
  reset();
  near.behaviour = "503";
  const r = await create({ template: "default" });
  assert.equal(r.status, 200);
  assert.equal(r.body.region, "far");
  assert.equal(r.body.body, JSON.stringify({ template: "default" }));
  assert.deepEqual([near.creates, far.creates], [1, 1]);
});

test("a 4xx answer is relayed, never retried elsewhere", async () => {
  reset();
  near.behaviour = "400";
  const r = await create();
  assert.equal(r.status, 400);
  assert.deepEqual([near.creates, far.creates], [1, 0]);
});

test("a create the origin read before the connection broke is not sent again (no double create)", async () => {
  reset();
  near.behaviour = "drop-after-read";
  const r = await create();
  assert.equal(r.status, 502);
  assert.equal(r.body.code, "upstream_error");
  assert.match(r.body.error ?? "", /may have made the sandbox/);
  assert.deepEqual([near.creates, far.creates], [1, 0]);
});

test("a region that refuses connections is skipped for creates and answers its ids 503 region_unavailable", async () => {
  reset();
  const down = await standIn("gone", 0);
  const tmp = await startEdge(
    { regions: [{ name: "gone", url: down.url }, { name: "far", url: far.url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096 },
    { log: () => undefined },
  );
  try {
    tmp.regions.byName("gone")!.rttMs = 0; // nearest, as far as the edge knows
    down.server.closeAllConnections();
    await new Promise<void>((r) => down.server.close(() => r()));
    const res = await fetch(`${tmp.url}/v1/sandboxes`, { method: "POST", body: "{}" });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { region: string }).region, "far");
    assert.equal(tmp.regions.byName("gone")!.healthy, false);
    const id = `sbx_${regionTagFor("gone")}${"0".repeat(28)}`;
    const byId = await fetch(`${tmp.url}/v1/sandboxes/${id}`);
    assert.equal(byId.status, 503);
    assert.equal(((await byId.json()) as { code: string }).code, "region_unavailable");
    assert.ok(Number(byId.headers.get("retry-after")) >= 1);
    const pinned = await fetch(`${tmp.url}/v1/sandboxes`, { method: "POST", body: JSON.stringify({ region: "gone" }) });
    assert.equal(pinned.status, 503);
    assert.equal(((await pinned.json()) as { code: string }).code, "region_unavailable");
    const farId = `sbx_${regionTagFor("far")}${"0".repeat(28)}`;
    assert.equal(((await (await fetch(`${tmp.url}/v1/sandboxes/${farId}`)).json()) as { region: string }).region, "far");
  } finally {
    await tmp.close();
  }
});

test("an unknown region, or an id no region makes, is a clear 4xx", async () => {
  reset();
  const r = await create({ region: "mars" });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, "region_unknown");
  // Neither answer lists the regions: the caller's key is not checked at the edge.
  assert.doesNotMatch(r.body.error ?? "", /\bnear\b|\bfar\b/);
  assert.match(r.body.error ?? "", /GET \/v1\/regions/);
  const res = await fetch(`${edge.url}/v1/sandboxes/sbx_ffff${"0".repeat(28)}`);
  assert.equal(res.status, 404);
  const notFound = (await res.json()) as { code: string; error: string };
  assert.equal(notFound.code, "sandbox_not_found");
  assert.doesNotMatch(notFound.error, /\bnear\b|\bfar\b/);
  // On E2B's paths, E2B's shape: its SDKs read `message` and `code === 404` (they showed
  // "404: [object Object]" and a kill of an unknown id threw).
  const unknownId = `sbx_ffff${"0".repeat(28)}`;
  for (const [path, headers] of [[`/sandboxes/${unknownId}`, {}], ["/files?path=/x", { "e2b-sandbox-id": unknownId }]] as const) {
    const e2b = await fetch(`${edge.url}${path}`, { headers });
    assert.equal(e2b.status, 404, path);
    const b = (await e2b.json()) as { code: unknown; message: unknown };
    assert.equal(b.code, 404, path);
    assert.match(String(b.message), /not found/, path);
    assert.match(e2b.statusText, /not found/, path);
  }
  const session = await fetch(`${edge.url}/mcp`, { method: "POST", headers: { "mcp-session-id": `mcp_ffff${"0".repeat(28)}`, "content-type": "application/json" }, body: "{}" });
  assert.equal(((await session.json()) as { code: string }).code, "mcp_session_not_found");
  // A malformed name is hostd's 400 bad_request, not region_unknown.
  for (const bad of ["EU", "-x", "a b"]) {
    const m = await create({ region: bad });
    assert.equal(m.status, 400);
    assert.equal(m.body.code, "bad_request", bad);
  }
  const big = await create({ env: { X: "y".repeat(5000) } });
  assert.equal(big.status, 413);
});

test("health: one slow probe keeps a region up, a second in a row takes it down; a refusal at once", async () => {
  const { RegionSet } = await import("./regions.js");
  const slow = await standIn("slow", 0);
  let delayMs = 0;
  slow.server.removeAllListeners("request");
  slow.server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    setTimeout(() => res.writeHead(200, { "x-podflare-region": "slow", "x-podflare-region-tag": regionTagFor("slow") }).end("ok"), delayMs);
  });
  const set = new RegionSet({ regions: [{ name: "slow", url: slow.url }], addr: "", probeIntervalMs: 60_000, probeTimeoutMs: 200, connectTimeoutMs: 1000, maxCreateBodyBytes: 0 }, () => undefined);
  const r = set.list[0]!;
  try {
    await set.probeAll();
    assert.equal(r.healthy, true);
    delayMs = 1000;
    await set.probeAll();
    assert.equal(r.healthy, true, "one slow probe is not an outage");
    await set.probeAll();
    assert.equal(r.healthy, false, "two in a row are");
    assert.match(r.error ?? "", /did not answer in 200 ms/);
    delayMs = 0;
    await set.probeAll();
    assert.equal(r.healthy, true);
    slow.server.closeAllConnections();
    await new Promise<void>((done) => slow.server.close(() => done()));
    await set.probeAll();
    assert.equal(r.healthy, false, "a refused connection takes it down at once");
  } finally {
    set.stop();
  }
});

test("an upgrade that is not a WebSocket (curl --http2 asks for h2c) is served as plain HTTP/1.1", async () => {
  reset();
  const port = Number(new URL(edge.url).port);
  const { connect } = await import("node:net");
  const answer = await new Promise<string>((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET /v1/sandboxes/sbx_" + regionTagFor("far") + "0".repeat(28) + " HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"));
    let got = "";
    s.on("data", (d: Buffer) => (got += d.toString()));
    s.on("close", () => resolve(got));
    s.on("error", reject);
  });
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /"region":"far"/);
});

for (const fastPath of [true, false]) {
  test(`one peer's connections to the edge are capped (origins see only the edge's address); ${fastPath ? "fast path" : "node:http only"}`, async () => {
    reset();
    const capped = await startEdge(
      { regions: [{ name: "far", url: far.url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096, fastPath, limits: { maxConnections: 100, maxConnectionsPerPeer: 2, idleTimeoutMs: 60_000 } },
      { log: () => undefined },
    );
    assert.equal(capped.fastPath, fastPath);
    const { connect } = await import("node:net");
    const port = Number(new URL(capped.url).port);
    const open = (): Promise<{ closed: Promise<void> }> =>
      new Promise((resolve, reject) => {
        const s = connect(port, "127.0.0.1", () => resolve({ closed: new Promise<void>((r) => s.once("close", () => r())) }));
        s.resume();
        s.on("error", reject);
      });
    try {
      const a = await open();
      const b = await open();
      const third = await open();
      // Refused: answered 503 and closed by the edge at once (polled with a deadline, so a
      // missing cap fails instead of hanging).
      let refused = false;
      void third.closed.then(() => (refused = true));
      await pollUntil(() => refused, 5000);
      assert.ok(refused, "a third connection from the same peer stayed open");
      // A fourth is answered 503, as hostd answers it (it was reset: the caller could not tell
      // whether its request was read).
      const res = await fetch(`${capped.url}/v1/healthz`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { code: string; error: string };
      assert.equal(body.code, "unavailable");
      assert.match(body.error, /2 connections open from .*was not served/);
      assert.equal(res.headers.get("retry-after"), "1");
      void a;
      void b;
    } finally {
      await capped.close();
    }
  });
}

for (const fastPath of [true, false]) {
  const mode = fastPath ? "fast path" : "node:http only";
  const nearId = `sbx_${regionTagFor("near")}${"0".repeat(28)}`;

  async function edgeInMode(): Promise<RunningEdge> {
    const e = await startEdge(
      { regions: [{ name: "near", url: near.url }, { name: "far", url: far.url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096, fastPath },
      { log: () => undefined },
    );
    assert.equal(e.fastPath, fastPath);
    return e;
  }

  test(`a call whose connection breaks before the answer gets 502 upstream_error, is not sent twice, and the region stays up; ${mode}`, async () => {
    reset();
    const e = await edgeInMode();
    try {
      near.behaviour = "drop-after-read";
      const res = await fetch(`${e.url}/v1/sandboxes/${nearId}/exec`, { method: "POST", body: JSON.stringify({ code: "1" }) });
      assert.equal(res.status, 502);
      const body = (await res.json()) as { code: string; error: string };
      assert.equal(body.code, "upstream_error");
      assert.match(body.error, /connection to region near broke before it answered .*may have run/);
      assert.deepEqual(near.seen, [`POST /v1/sandboxes/${nearId}/exec`]);
      assert.equal(e.regions.byName("near")!.healthy, true, "one broken connection is not an outage");
      near.behaviour = "ok";
      assert.equal((await fetch(`${e.url}/v1/sandboxes/${nearId}`)).status, 200);
    } finally {
      await e.close();
    }
  });

  test(`a read on a reused connection the origin closed goes again on a new one; a write there is answered 502 once; ${mode}`, async () => {
    reset();
    const e = await edgeInMode();
    try {
      assert.equal((await fetch(`${e.url}/v1/sandboxes/${nearId}`)).status, 200); // leaves a kept-alive connection
      near.behaviour = "drop-reused";
      near.seen = [];
      const read = await fetch(`${e.url}/v1/sandboxes/${nearId}`);
      assert.equal(read.status, 200);
      assert.equal(((await read.json()) as { region: string }).region, "near");
      assert.deepEqual(near.seen, [`GET /v1/sandboxes/${nearId}`, `GET /v1/sandboxes/${nearId}`], "dropped once, then answered on a new connection");

      near.behaviour = "ok";
      assert.equal((await fetch(`${e.url}/v1/sandboxes/${nearId}`)).status, 200); // a kept-alive connection again
      near.behaviour = "drop-reused";
      near.seen = [];
      const write = await fetch(`${e.url}/v1/sandboxes/${nearId}/exec`, { method: "POST", body: JSON.stringify({ code: "1" }) });
      assert.equal(write.status, 502);
      assert.equal(((await write.json()) as { code: string }).code, "upstream_error");
      assert.deepEqual(near.seen, [`POST /v1/sandboxes/${nearId}/exec`], "a write is never sent twice");
      assert.equal(e.regions.byName("near")!.healthy, true);
    } finally {
      await e.close();
    }
  });
}

test("GET /v1/regions when no region answers: 503 region_unavailable with Retry-After, not the list to a caller no origin checked", async () => {
  const down = await standIn("gone", 0);
  const tmp = await startEdge(
    { regions: [{ name: "gone", url: down.url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096 },
    { log: () => undefined },
  );
  try {
    down.server.closeAllConnections();
    await new Promise<void>((r) => down.server.close(() => r()));
    tmp.regions.byName("gone")!.healthy = false;
    const res = await fetch(`${tmp.url}/v1/regions`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { code: string; error: string; regions?: unknown };
    assert.equal(body.code, "region_unavailable");
    assert.equal(body.regions, undefined);
    assert.match(body.error, /no region answered/);
    assert.ok(Number(res.headers.get("retry-after")) >= 1);
  } finally {
    await tmp.close();
  }
});

test("a merged list when no region can be asked is 503 region_unavailable with Retry-After", async () => {
  // A port nothing listens on: every region is unreachable.
  const nowhere = http.createServer();
  await new Promise<void>((r) => nowhere.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(nowhere.address() as AddressInfo).port}`;
  await new Promise<void>((r) => nowhere.close(() => r()));
  const lonely = await startEdge(
    { regions: [{ name: "gone", url }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096 },
    { log: () => undefined },
  );
  try {
    const res = await fetch(`${lonely.url}/v1/sandboxes`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, "region_unavailable");
    assert.equal(res.headers.get("retry-after"), "1");
  } finally {
    await lonely.close();
  }
});
