// Protocol logic of the Sandbox class against a stand-in server (support/stand-in-server.ts).
// The real server is exercised by tests/conformance.

import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import {
  DIFF_SNIPPET,
  ConnectionError,
  IsADirectoryError,
  NotADirectoryError,
  NotFoundError,
  ProtocolError,
  SandboxClosedError,
  SandboxNotFoundError,
  TimeoutError,
  BadRequestError,
  RegionUnknownError,
  UnauthorizedError,
  UnknownLanguageError,
  Sandbox,
  type ExecEvent,
} from "podflare";
import { createAnswer, json, ndjson, startStandIn, type SeenRequest, type StandIn } from "./support/stand-in-server.js";

const ID = "sbx_" + "a".repeat(32);
let server: StandIn;

before(async () => {
  server = await startStandIn();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

/** A stand-in that creates sandboxes and answers exec with `events`. */
function basicHostd(events: unknown[] = [{ type: "stdout", data: "hi\n", seq: 0, ts: 1 }, { type: "exit", data: 0, seq: 1, ts: 2 }]) {
  server.handle((req, res) => {
    if (req.method === "POST" && req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.method === "POST" && req.path.endsWith("/exec")) return ndjson(res, events);
    if (req.method === "DELETE") {
      res.writeHead(204).end();
      return;
    }
    json(res, 404, { error: `no route for ${req.method} ${req.path}`, code: "not_found" });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("create sends camelCase options as snake_case, leaves unset ones out, reads the answer", async () => {
  server.handle((_req, res) =>
    json(res, 200, { ...createAnswer(), clamped: ["memory_mb", "idle_timeout_s"], warnings: ["egress=false is not enforced yet"] }),
  );
  const sb = await Sandbox.create({
    host: server.url,
    template: "default",
    persistent: true,
    egress: false,
    memoryMb: 8192,
    diskMb: undefined,
    vcpus: 4,
    idleTimeoutS: 99999,
    maxLifetimeS: 60,
    env: { A: "1" },
    metadata: { owner: "t" },
  });
  const req = server.requests[0]!;
  assert.equal(req.method, "POST");
  assert.equal(req.path, "/v1/sandboxes");
  assert.equal(req.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(req.body.toString()), {
    template: "default",
    persistent: true,
    egress: false,
    memory_mb: 8192,
    vcpus: 4,
    idle_timeout_s: 99999,
    max_lifetime_s: 60,
    env: { A: "1" },
    metadata: { owner: "t" },
  });
  assert.equal(sb.id, ID);
  assert.equal(sb.template, "default");
  assert.deepEqual(sb.applied, { memoryMb: 1024, diskMb: 4096, vcpus: 2, idleTimeoutS: 300, maxLifetimeS: 1800, egress: true, persistent: false });
  assert.deepEqual(sb.clamped, ["memoryMb", "idleTimeoutS"]);
  assert.deepEqual(sb.warnings, ["egress=false is not enforced yet"]);
  assert.equal(sb.getUrl(8000), `${server.url}/v1/sandboxes/${ID}/ports/8000/`);
});

test("an empty create sends {} and works with a bare {id, state} answer (hosted service)", async () => {
  server.handle((_req, res) => json(res, 200, { id: ID, state: "ready" }));
  const sb = await Sandbox.create({ host: server.url + "/" });
  assert.deepEqual(JSON.parse(server.requests[0]!.body.toString()), {});
  assert.equal(sb.applied, undefined);
  assert.deepEqual(sb.clamped, []);
  assert.equal(sb.host, server.url);
});

test("the API key goes in Authorization: Bearer, from the option or PODFLARE_API_KEY; none, no header", async () => {
  basicHostd();
  const saved = { url: process.env["PODFLARE_HOSTD_URL"], key: process.env["PODFLARE_API_KEY"] };
  try {
    delete process.env["PODFLARE_API_KEY"];
    process.env["PODFLARE_HOSTD_URL"] = server.url;
    await Sandbox.create();
    assert.equal(server.requests.at(-1)!.headers["authorization"], undefined);
    await Sandbox.create({ apiKey: "pf_test_option" });
    assert.equal(server.requests.at(-1)!.headers["authorization"], "Bearer pf_test_option");
    process.env["PODFLARE_API_KEY"] = "pf_test_env";
    const sb = await Sandbox.create();
    assert.equal(server.requests.at(-1)!.headers["authorization"], "Bearer pf_test_env");
    await sb.runCode("1");
    assert.equal(server.requests.at(-1)!.headers["authorization"], "Bearer pf_test_env");
  } finally {
    for (const [name, value] of [["PODFLARE_HOSTD_URL", saved.url], ["PODFLARE_API_KEY", saved.key]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("region goes in the create body and an X-Podflare-Region header; resume carries it", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/spaces/spc_1/resume") return json(res, 200, createAnswer());
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    return ndjson(res, [{ type: "exit", data: 0, seq: 0, ts: 1 }]);
  });
  const sb = await Sandbox.create({ host: server.url, region: "us-west" });
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { region: "us-west" });
  assert.equal(server.requests.at(-1)!.headers["x-podflare-region"], "us-west");
  await sb.runCode("1");
  assert.equal(server.requests.at(-1)!.headers["x-podflare-region"], "us-west");
  await Sandbox.resume("spc_1", { host: server.url, region: "us-west" });
  assert.equal(server.requests.at(-1)!.path, "/v1/spaces/spc_1/resume");
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { region: "us-west" });
  await Sandbox.resume("spc_1", { host: server.url });
  assert.equal(server.requests.at(-1)!.body.length, 0);
  assert.equal(server.requests.at(-1)!.headers["x-podflare-region"], undefined);
});

test("a region the server does not serve is RegionUnknownError (a BadRequestError)", async () => {
  server.handle((_req, res) => json(res, 400, { error: 'region "us-west" is not served here', code: "region_unknown" }));
  await assert.rejects(Sandbox.create({ host: server.url, region: "us-west" }), (err: unknown) => {
    assert.ok(err instanceof RegionUnknownError && err instanceof BadRequestError);
    assert.equal(err.status, 400);
    return true;
  });
});

test("host: the option, else PODFLARE_HOSTD_URL, else PODFLARE_HOST", async () => {
  basicHostd();
  const saved = { url: process.env["PODFLARE_HOSTD_URL"], host: process.env["PODFLARE_HOST"] };
  try {
    delete process.env["PODFLARE_HOSTD_URL"];
    process.env["PODFLARE_HOST"] = server.url;
    assert.equal((await Sandbox.create()).host, server.url);
    process.env["PODFLARE_HOSTD_URL"] = "http://127.0.0.1:1";
    process.env["PODFLARE_HOST"] = "http://127.0.0.1:2";
    assert.equal((await Sandbox.create({ host: server.url })).host, server.url);
    process.env["PODFLARE_HOSTD_URL"] = server.url;
    assert.equal((await Sandbox.create()).host, server.url);
  } finally {
    for (const [name, value] of [["PODFLARE_HOSTD_URL", saved.url], ["PODFLARE_HOST", saved.host]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("a 401 without a code surfaces as UnauthorizedError", async () => {
  server.handle((_req, res) => {
    res.writeHead(401, { "content-type": "text/plain" });
    res.end("invalid api key");
  });
  await assert.rejects(Sandbox.create({ host: server.url, apiKey: "wrong" }), (err: unknown) => {
    assert.ok(err instanceof UnauthorizedError);
    assert.equal(err.status, 401);
    return true;
  });
});

test("runCode joins each stream byte for byte and sends the exec fields", async () => {
  basicHostd([
    { type: "stdout", data: "línea 1\n", seq: 0, ts: 1 },
    { type: "stderr", data: "warn\n", seq: 1, ts: 1 },
    { type: "stdout", data: "tail without newline", seq: 2, ts: 2 },
    { type: "exit", data: 3, seq: 3, ts: 3 },
  ]);
  const sb = await Sandbox.create({ host: server.url });
  const r = await sb.runCode("print(1)", "python", { timeoutMs: 2000, env: { X: "y" }, cwd: "/tmp" });
  assert.deepEqual(r, { stdout: "línea 1\ntail without newline", stderr: "warn\n", exitCode: 3, results: [] });
  const req = server.requests.at(-1)!;
  assert.equal(req.path, `/v1/sandboxes/${ID}/exec`);
  // runCode asks for rich results; a stream only when told (the hosted API streams none).
  assert.deepEqual(JSON.parse(req.body.toString()), { code: "print(1)", language: "python", timeout_ms: 2000, env: { X: "y" }, cwd: "/tmp", results: true });
  await sb.runCode("uname", "bash");
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { code: "uname", language: "bash", results: true });
  for await (const _ of sb.runCodeStream("uname", "bash")) void _;
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { code: "uname", language: "bash" });
  for await (const _ of sb.runCodeStream("uname", "bash", { results: true })) void _;
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { code: "uname", language: "bash", results: true });
});

test("NDJSON split across many small chunks is parsed by runCode and runCodeStream", async () => {
  const events = [
    { type: "stdout", data: "ünïcödé ✓\n", seq: 0, ts: 1 },
    { type: "stdout", data: "two\n", seq: 1, ts: 2 },
    { type: "exit", data: 0, seq: 2, ts: 3 },
  ];
  const wire = Buffer.from(events.map((e) => JSON.stringify(e) + "\n").join(""));
  server.handle(async (req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    for (let i = 0; i < wire.length; i += 3) {
      res.write(wire.subarray(i, i + 3));
      await sleep(1);
    }
    res.end();
  });
  const sb = await Sandbox.create({ host: server.url });
  assert.deepEqual(await sb.runCode("x"), { stdout: "ünïcödé ✓\ntwo\n", stderr: "", exitCode: 0, results: [] });
  const seen: ExecEvent[] = [];
  for await (const ev of sb.runCodeStream("x")) seen.push(ev);
  assert.deepEqual(seen, events);
});

test("runCodeStream yields the first line while the command is still running", async () => {
  let releasedByClient = false;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  server.handle(async (req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(JSON.stringify({ type: "stdout", data: "1\n", seq: 0, ts: 1 }) + "\n");
    // Only finish once the client has seen the first event: a buffering client would deadlock
    // here, so give up after a while and let the assertion below say what happened.
    releasedByClient = await Promise.race([released.then(() => true), sleep(10_000).then(() => false)]);
    res.write(JSON.stringify({ type: "stdout", data: "2\n", seq: 1, ts: 2 }) + "\n");
    res.end(JSON.stringify({ type: "exit", data: 0, seq: 2, ts: 3 }) + "\n");
  });
  const sb = await Sandbox.create({ host: server.url });
  const seen: string[] = [];
  for await (const ev of sb.runCodeStream("print(1); import time; time.sleep(5); print(2)")) {
    if (seen.length === 0) release();
    if (ev.type === "exit" || ev.type === "stdout" || ev.type === "stderr") seen.push(ev.type === "exit" ? `exit ${ev.data}` : ev.data);
  }
  assert.ok(releasedByClient, "the first event reached the caller only after the command ended");
  assert.deepEqual(seen, ["1\n", "2\n", "exit 0"]);
});

test("breaking out of runCodeStream early does not hang and the sandbox keeps working", async () => {
  server.handle(async (req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (JSON.parse(req.body.toString()).code === "quick") return ndjson(res, [{ type: "exit", data: 0, seq: 0, ts: 0 }]);
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(JSON.stringify({ type: "stdout", data: "first\n", seq: 0, ts: 1 }) + "\n");
    // never ends on its own
  });
  const sb = await Sandbox.create({ host: server.url });
  for await (const ev of sb.runCodeStream("slow")) {
    assert.equal(ev.type === "stdout" && ev.data, "first\n");
    break;
  }
  assert.equal((await sb.runCode("quick")).exitCode, 0);
});

test("errors before streaming are typed: unknown language, unknown sandbox", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    const { language } = JSON.parse(req.body.toString());
    if (language !== "python") return json(res, 400, { error: `unknown language ${language}`, code: "unknown_language" });
    json(res, 404, { error: `no sandbox ${ID}`, code: "sandbox_not_found" });
  });
  const sb = await Sandbox.create({ host: server.url });
  await assert.rejects(sb.runCode("x", "cobol" as "python"), UnknownLanguageError);
  await assert.rejects(
    (async () => {
      for await (const _ of sb.runCodeStream("x", "cobol" as "python")) void _;
    })(),
    UnknownLanguageError,
  );
  await assert.rejects(sb.runCode("x"), (err: unknown) => err instanceof SandboxNotFoundError && err.status === 404);
});

test("a stream that ends without exit, or breaks, is an error", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    const { code } = JSON.parse(req.body.toString());
    if (code === "noexit") return ndjson(res, [{ type: "stdout", data: "x\n", seq: 0, ts: 0 }]);
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(JSON.stringify({ type: "stdout", data: "x\n", seq: 0, ts: 0 }) + "\n", () => setTimeout(() => res.socket?.destroy(), 20));
  });
  const sb = await Sandbox.create({ host: server.url });
  await assert.rejects(sb.runCode("noexit"), ProtocolError);
  await assert.rejects(sb.runCode("cut"), ConnectionError);
  await assert.rejects(
    (async () => {
      for await (const _ of sb.runCodeStream("cut")) void _;
    })(),
    ConnectionError,
  );
});

test("endpoints the server lacks surface as NotFoundError, not as a missing sandbox", async () => {
  basicHostd();
  const sb = await Sandbox.create({ host: server.url });
  for (const call of [() => sb.fork(2), () => sb.pause(), () => sb.freeze(), () => sb.setTimeout(60), () => Sandbox.resume("spc_1", { host: server.url })]) {
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.ok(!(err instanceof SandboxNotFoundError));
      assert.equal(err.code, "not_found");
      assert.match(err.message, /may not provide this endpoint/);
      return true;
    });
  }
  assert.ok(sb.isOpen, "a failed freeze leaves the object open");
});

test("keep-alive: one TCP connection carries many calls", async () => {
  // (The round trip's latency is a figure of bench/limits.mjs.)
  basicHostd();
  const before = server.connections();
  const sb = await Sandbox.create({ host: server.url });
  for (let i = 0; i < 50; i++) await sb.runCode("1");
  const conns = new Set(server.requests.map((r: SeenRequest) => r.connection));
  assert.equal(conns.size, 1, "every request on one connection");
  assert.ok(server.connections() - before <= 1);
});

test("an exec whose reused connection breaks under it is not sent again (it may have run): ConnectionError", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    // The second request on a connection is taken, then the connection dropped unanswered.
    if (req.connectionIndex >= 1) {
      res.socket?.destroy();
      return;
    }
    ndjson(res, [{ type: "stdout", data: "ok\n", seq: 0, ts: 0 }, { type: "exit", data: 0, seq: 1, ts: 0 }]);
  });
  const sb = await Sandbox.create({ host: server.url });
  await assert.rejects(sb.runCode("print('ok')"), (err: Error) => err.name === "ConnectionError");
  const execs = server.requests.filter((q) => q.path.endsWith("/exec"));
  assert.equal(execs.length, 1, "the exec was sent twice");
});

test("a silent server gives TimeoutError; an exec without timeoutMs may outlast the client timeout", async () => {
  server.handle(async (req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.path.endsWith("/exec")) {
      await sleep(300);
      return ndjson(res, [{ type: "exit", data: 0, seq: 0, ts: 0 }]);
    }
    // anything else: never answer
  });
  const sb = await Sandbox.create({ host: server.url, timeoutMs: 100 });
  await assert.rejects(sb.info(), (err: unknown) => err instanceof TimeoutError && err.code === "request_timeout" && err.status === 0);
  assert.equal((await sb.runCode("import time; time.sleep(0.3)")).exitCode, 0);
});

test("an unreachable server gives ConnectionError naming the host", async () => {
  const dead = await startStandIn();
  const url = dead.url;
  await dead.close();
  await assert.rejects(Sandbox.create({ host: url }), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.match(err.message, /ECONNREFUSED/);
    assert.ok(err.message.includes(url));
    return true;
  });
});

test("upload takes (data, path), and a string then bytes as (path, data); two strings never reordered; paths URL-encoded", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    res.writeHead(204).end();
  });
  const sb = await Sandbox.create({ host: server.url });
  await sb.upload(new Uint8Array([0, 1, 255]), "/root/a b&c.bin");
  await sb.upload("héllo", "/root/notes.txt");
  // A path-looking first string is still the data: the file is named by the second.
  await sb.upload("/root/run.sh", "#!/usr/bin/env python3");
  await sb.upload("a,b\n", "data.csv");
  // The hosted README's order, a string then bytes, can only be (path, data).
  await sb.upload("/root/x", Buffer.from("x"));
  await sb.upload("ab.bin", new Uint8Array([0xab]).buffer);
  const puts = server.requests.filter((r) => r.method === "PUT");
  assert.deepEqual(
    puts.map((r) => [r.path, r.query.get("path"), r.body.toString("hex"), r.headers["content-type"]]),
    [
      [`/v1/sandboxes/${ID}/files`, "/root/a b&c.bin", "0001ff", "application/octet-stream"],
      [`/v1/sandboxes/${ID}/files`, "/root/notes.txt", Buffer.from("héllo").toString("hex"), "application/octet-stream"],
      [`/v1/sandboxes/${ID}/files`, "#!/usr/bin/env python3", Buffer.from("/root/run.sh").toString("hex"), "application/octet-stream"],
      [`/v1/sandboxes/${ID}/files`, "data.csv", Buffer.from("a,b\n").toString("hex"), "application/octet-stream"],
      [`/v1/sandboxes/${ID}/files`, "/root/x", Buffer.from("x").toString("hex"), "application/octet-stream"],
      [`/v1/sandboxes/${ID}/files`, "ab.bin", "ab", "application/octet-stream"],
    ],
  );
  assert.ok(puts[0]!.url.includes("path=%2Froot%2Fa%20b%26c.bin"));
  await assert.rejects(sb.upload(Buffer.from("x"), Buffer.from("y") as unknown as string), TypeError);
  await assert.rejects(sb.upload("x", ""), TypeError);
});

test("download returns bytes; a directory is IsADirectoryError; list reads entries; a file is NotADirectoryError", async () => {
  const bytes = Buffer.from([1, 2, 3, 0, 254]);
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.method === "DELETE") return void res.writeHead(204).end();
    const path = req.query.get("path");
    if (path === "/root") {
      return json(res, 200, { path: "/root", entries: [{ name: "a.txt", type: "file", size: 5, mode: 0o644, mtime_ms: 1700000000000 }] });
    }
    if (path === "/missing") return json(res, 404, { error: "no file /missing", code: "file_not_found" });
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
    res.end(bytes);
  });
  const sb = await Sandbox.create({ host: server.url });
  assert.deepEqual([...(await sb.download("/root/f.bin"))], [...bytes]);
  await assert.rejects(sb.download("/root"), (err: unknown) => err instanceof IsADirectoryError && /list\("\/root"\)/.test(err.message));
  assert.deepEqual(await sb.list("/root"), [{ name: "a.txt", type: "file", size: 5, mode: 0o644, mtimeMs: 1700000000000 }]);
  await assert.rejects(sb.list("/root/f.bin"), NotADirectoryError);
  await assert.rejects(sb.download("/missing"), (err: unknown) => err instanceof NotFoundError && err.code === "file_not_found");
  await sb.remove("/root/f.bin");
  const del = server.requests.at(-1)!;
  assert.equal(del.method, "DELETE");
  assert.equal(del.query.get("path"), "/root/f.bin");
});

test("close is idempotent, tolerates a sandbox already gone, and later calls throw SandboxClosedError", async () => {
  basicHostd();
  const sb = await Sandbox.create({ host: server.url });
  await Promise.all([sb.close(), sb.close()]);
  await sb.close();
  assert.equal(server.requests.filter((r) => r.method === "DELETE").length, 1);
  assert.equal(server.requests.at(-1)!.path, `/v1/sandboxes/${ID}`);
  const count = server.requests.length;
  await assert.rejects(sb.runCode("1"), SandboxClosedError);
  await assert.rejects(sb.upload("x", "/x"), SandboxClosedError);
  assert.equal(server.requests.length, count, "no request after close");

  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    json(res, 404, { error: "gone", code: "sandbox_not_found" });
  });
  const reaped = await Sandbox.create({ host: server.url });
  await reaped.close();
  assert.equal(reaped.isOpen, false);
});

test("fork returns child Sandboxes; mergeInto closes the winner object and keeps the parent", async () => {
  const kids = ["sbx_" + "1".repeat(32), "sbx_" + "2".repeat(32), "sbx_" + "3".repeat(32)];
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.path.endsWith("/fork")) return json(res, 200, { children: kids });
    if (req.path.includes("/merge_into/")) return void res.writeHead(204).end();
    if (req.path.endsWith("/exec")) return ndjson(res, [{ type: "exit", data: 0, seq: 0, ts: 0 }]);
    if (req.method === "DELETE") return void res.writeHead(204).end();
  });
  const parent = await Sandbox.create({ host: server.url });
  const children = await parent.fork(3);
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { n: 3 });
  assert.deepEqual(children.map((c) => c.id), kids);
  assert.deepEqual(children[0]!.applied, parent.applied);
  await parent.mergeInto(children[1]!);
  assert.equal(server.requests.at(-1)!.path, `/v1/sandboxes/${ID}/merge_into/${kids[1]}`);
  assert.equal(parent.id, ID);
  const count = server.requests.length;
  await children[1]!.close();
  assert.equal(server.requests.length, count, "winner.close() sends nothing");
  await assert.rejects(children[1]!.runCode("1"), (err: unknown) => err instanceof SandboxClosedError && err.message.includes(ID));
  assert.equal((await parent.runCode("1")).exitCode, 0);
  await parent.fork();
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { n: 1 });
});

test("diff runs the shared snippet in both sandboxes and compares the snapshots", async () => {
  const A = "sbx_" + "a".repeat(32);
  const B = "sbx_" + "b".repeat(32);
  const snaps: Record<string, unknown> = {
    [A]: { "/root": [0, "0", "dir"], "/root/same": [3, "1", "h1"], "/root/gone": [1, "1", "h2"], "/root/edit": [2, "1", "h3"], "/root/big": [2000000, "5", null], "/root/touched": [3, "1", "h4"] },
    [B]: { "/root": [0, "0", "dir"], "/root/same": [3, "1", "h1"], "/root/new": [1, "9", "h5"], "/root/edit": [2, "2", "h9"], "/root/big": [2000000, "6", null], "/root/touched": [3, "7", "h4"] },
  };
  const codes: string[] = [];
  server.handle((req, res) => {
    const id = req.path.split("/")[3]!;
    if (req.method === "GET") return json(res, 404, { error: "no route for this call", code: "not_found" });
    codes.push(JSON.parse(req.body.toString()).code);
    ndjson(res, [{ type: "stdout", data: JSON.stringify(snaps[id]) + "\n", seq: 0, ts: 0 }, { type: "exit", data: 0, seq: 1, ts: 0 }]);
  });
  const a = await Sandbox.connect(A, { host: server.url });
  const b = await Sandbox.connect(B, { host: server.url });
  assert.deepEqual(await a.diff(b), { added: ["/root/new"], removed: ["/root/gone"], modified: ["/root/big", "/root/edit"] });
  assert.equal(codes.length, 2);
  const code = codes.at(-1)!;
  assert.ok(code.startsWith(`exec(${JSON.stringify(DIFF_SNIPPET)}, `));
  assert.ok(code.endsWith(`"PATHS": ["/root","/tmp"]})`));
});

test("connect checks the id when the server can, and attaches lazily when it has no GET route", async () => {
  server.handle((req, res) => {
    if (req.path.endsWith("a".repeat(32))) {
      return json(res, 200, { ...createAnswer(), state: "ready", created_at: "", last_active_at: "", metadata: {}, parent_id: null });
    }
    if (req.path.endsWith("0".repeat(32))) return json(res, 404, { error: "no such sandbox", code: "sandbox_not_found" });
    json(res, 404, { error: "no route for this call", code: "not_found" });
  });
  const sb = await Sandbox.connect(ID, { host: server.url });
  assert.equal(sb.applied?.vcpus, 2);
  await assert.rejects(Sandbox.connect("sbx_" + "0".repeat(32), { host: server.url }), SandboxNotFoundError);
  const lazy = await Sandbox.connect("sbx_" + "f".repeat(32), { host: server.url });
  assert.equal(lazy.applied, undefined);
});

test("freeze returns the Space id and closes the object; Sandbox.resume brings it back", async () => {
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.path.endsWith("/freeze")) return json(res, 200, { space_id: "spc_1" });
    if (req.path === "/v1/spaces/spc_1/resume") return json(res, 200, createAnswer("sbx_" + "c".repeat(32)));
    if (req.path.endsWith("/timeout")) return json(res, 200, { idle_timeout_s: 1800 });
    res.writeHead(204).end();
  });
  const sb = await Sandbox.create({ host: server.url, persistent: true });
  await sb.pause();
  await sb.resume();
  assert.deepEqual(server.requests.slice(-2).map((r) => r.path), [`/v1/sandboxes/${ID}/pause`, `/v1/sandboxes/${ID}/resume`]);
  await sb.setTimeout(99999);
  assert.deepEqual(JSON.parse(server.requests.at(-1)!.body.toString()), { idle_timeout_s: 99999 });
  assert.equal(sb.applied?.idleTimeoutS, 1800);
  const spaceId = await sb.freeze();
  assert.equal(spaceId, "spc_1");
  const count = server.requests.length;
  await sb.close();
  assert.equal(server.requests.length, count, "close after freeze must not delete the Space");
  await assert.rejects(sb.runCode("1"), (err: unknown) => err instanceof SandboxClosedError && err.message.includes("Sandbox.resume"));
  const back = await Sandbox.resume(spaceId, { host: server.url });
  assert.equal(back.id, "sbx_" + "c".repeat(32));
});

test("listSandboxes and usage read the key's sandboxes and totals; an answer without owner is a ProtocolError", async () => {
  const usage = { owner: "key_1", sandboxes_created: 3, sandbox_seconds: 12.5, gb_seconds: 6.25, execs: 7, forks: 2 };
  server.handle((req, res) => {
    if (req.path === "/v1/sandboxes") return json(res, 200, { sandboxes: [{ ...createAnswer(), created_at: "t0", last_active_at: "t1", metadata: {}, parent_id: null }] });
    if (req.path === "/v1/usage") return json(res, 200, usage);
    json(res, 404, { error: "no route for this call", code: "not_found" });
  });
  const list = await Sandbox.listSandboxes({ host: server.url });
  assert.deepEqual(list.map((s) => [s.id, s.createdAt]), [[ID, "t0"]]);
  assert.deepEqual(await Sandbox.usage({ host: server.url }), {
    owner: "key_1",
    sandboxesCreated: 3,
    sandboxSeconds: 12.5,
    gbSeconds: 6.25,
    execs: 7,
    forks: 2,
  });
  assert.equal(server.requests.at(-1)!.method, "GET");
  server.handle((_req, res) => json(res, 200, {}));
  await assert.rejects(Sandbox.usage({ host: server.url }), ProtocolError);
});

test("runCode gathers result and error events and calls onResult/onError as they come", async () => {
  basicHostd([
    { type: "result", data: { "text/plain": "1" }, is_main_result: false, seq: 0, ts: 1 },
    { type: "error", name: "ValueError", value: "v", traceback: "tb", seq: 1, ts: 1 },
    { type: "exit", data: 1, seq: 2, ts: 2 },
  ]);
  const sb = await Sandbox.create({ host: server.url });
  const seen: string[] = [];
  const r = await sb.runCode("x", "python", { onResult: (res) => seen.push(`r:${res.text}`), onError: (e) => seen.push(`e:${e.name}`) });
  assert.deepEqual(seen, ["r:1", "e:ValueError"]);
  assert.equal(r.results[0]!.text, "1");
  assert.deepEqual(r.error, { name: "ValueError", value: "v", traceback: "tb" });
  assert.equal(r.exitCode, 1);
});
