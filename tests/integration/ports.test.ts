// The port proxy (issue 6, item 5): /v1/sandboxes/:id/ports/:port/<path> reaches servers
// listening inside real sandboxes, through the guest kernel — HTTP with bodies both ways,
// WebSockets, errors for every way it can fail, and the API key kept out of the sandbox.
// Against a hostd of this test's own, with two keys, so auth and ownership are on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox } from "podflare";
import { api } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { runPythonSdk } from "../support/python-sdk.js";
import { wsConnect as wsConnectUrl, wsFrame, wsRead, type WsAnswer } from "../support/websocket.js";

const { stateDir, port: hostdPort } = ownHostd("ports", 30);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const keyA = "pf_test_key_ports_aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const keyB = "pf_test_key_ports_bbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const as = (key: string) => ({ authorization: `Bearer ${key}` });
const PROXY_TIMEOUT_MS = 2000;
let hostd: TestHostd;
let sbx: string; // keyA's sandbox with the servers of most tests
const ids: string[] = [];

async function create(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api("POST", "/v1/sandboxes", body, hostd.url, as(keyA));
  const json = (await res.json()) as { id: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  ids.push(json.id);
  return json.id;
}

async function bash(id: string, code: string): Promise<string> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, language: "bash" }, hostd.url, as(keyA));
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const events = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: string | number });
  assert.equal(events.at(-1)?.data, 0, `bash failed: ${text}`);
  return events.filter((e) => e.type === "stdout").map((e) => e.data).join("");
}

async function putFile(id: string, file: string, body: Uint8Array | string): Promise<void> {
  const res = await api("PUT", `/v1/sandboxes/${id}/files?path=${encodeURIComponent(file)}`, body, hostd.url, as(keyA));
  assert.equal(res.status, 204, await res.text());
}

function portUrl(id: string, port: number | string, rest = "/"): string {
  return `${hostd.url}/v1/sandboxes/${id}/ports/${port}${rest}`;
}

const proxied = (id: string, port: number | string, rest = "/", init: RequestInit = {}, key = keyA) =>
  fetch(portUrl(id, port, rest), { ...init, headers: { ...as(key), ...(init.headers as Record<string, string>) } });

/** Starts a fixture server in the background (bash `&`) and waits until the proxy reaches it. */
async function startServer(id: string, command: string, port: number, probe = "/"): Promise<void> {
  await bash(id, `nohup ${command} > /tmp/server-${port}.log 2>&1 &`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await proxied(id, port, probe);
    await res.arrayBuffer();
    if (res.status !== 502) return;
    if (Date.now() > deadline) assert.fail(`server on port ${port} did not come up: ${await bash(id, `cat /tmp/server-${port}.log`)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the fixture's WebSocket echo server in the background and waits until the proxy upgrades to it. */
async function startWsServer(id: string, port: number): Promise<void> {
  await bash(id, `nohup python3 /srv/port_servers.py ws ${port} > /tmp/ws.log 2>&1 &`);
  const upgraded = async () => {
    const ws = await wsConnect(id, port, "/ready", as(keyA));
    ws.socket?.destroy();
    return ws.status === 101;
  };
  await eventually(upgraded, `the WebSocket server on port ${port} did not come up`, 15_000);
}

const fixture = fs.readFileSync(path.join(root, "tests/integration/fixtures/port_servers.py"));

before(async () => {
  hostd = await startTestHostd({
    stateDir,
    port: hostdPort,
    env: { PODFLARE_API_KEYS: `${keyA},${keyB}`, PODFLARE_PROXY_TIMEOUT_MS: String(PROXY_TIMEOUT_MS) },
  });
  sbx = await create();
  await putFile(sbx, "/srv/port_servers.py", fixture);
  await bash(sbx, "mkdir -p /srv/www");
  await startServer(sbx, "python3 -m http.server 8000 --directory /srv/www", 8000);
  await startServer(sbx, "python3 /srv/port_servers.py echo 8001", 8001);
  await startWsServer(sbx, 8002);
});

after(async () => {
  for (const id of ids) await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as(keyA)).then((r) => r.arrayBuffer());
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("python3 -m http.server started with bash & serves a file through the proxy, byte for byte", async () => {
  const bytes = crypto.randomBytes(300_000);
  await putFile(sbx, "/srv/www/blob.bin", bytes);
  const res = await proxied(sbx, 8000, "/blob.bin");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), String(bytes.length));
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), "the body must be the file's bytes");
  // The port's root (no trailing path) is the server's /: a directory listing.
  const list = await proxied(sbx, 8000, "");
  assert.equal(list.status, 200);
  assert.match(await list.text(), /blob\.bin/);
});

test("a POST body goes in and comes back unchanged, streamed both ways (2 MiB, and chunked)", async () => {
  const body = crypto.randomBytes(2 * 1024 * 1024);
  const res = await proxied(sbx, 8001, "/echo-body", { method: "POST", body });
  assert.equal(res.status, 200);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(body));

  // No content-length: the request is chunked on the way in.
  const chunks = [Buffer.from("first part, "), Buffer.from("second part")];
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = http.request(portUrl(sbx, 8001, "/echo-body"), { method: "PUT", headers: as(keyA) }, (r) => {
      let out = "";
      r.setEncoding("utf8").on("data", (d: string) => (out += d)).on("end", () => resolve(out));
    });
    req.on("error", reject);
    req.write(chunks[0]);
    setTimeout(() => req.end(chunks[1]), 50);
  });
  assert.equal(echoed, "first part, second part");
});

test("the path after the port and the query string reach the server as sent; every method is proxied", async () => {
  const res = await proxied(sbx, 8001, "/a/b%20c/?q=1&r=x%2Fy&q=2");
  const info = (await res.json()) as { method: string; path: string };
  assert.equal(info.path, "/a/b%20c/?q=1&r=x%2Fy&q=2");
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
    const r = await proxied(sbx, 8001, "/m", { method });
    assert.equal(r.status, 200, method);
    assert.equal(((await r.json()) as { method: string }).method, method);
  }
  const head = await proxied(sbx, 8001, "/m", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  // Repeated response headers survive (two Set-Cookie), each cookie kept under the port's own
  // URL: with `Path=/` a sandbox's cookies went with every request to hostd's origin (an outside
  // tester's cookie bomb made the dashboard answer 431 for a year).
  const mount = `/v1/sandboxes/${sbx}/ports/8001`;
  assert.deepEqual(res.headers.getSetCookie(), [`a=1; Path=${mount}/`, `b=2; Path=${mount}/`]);
});

test("the API key never reaches the sandbox; X-Forwarded-* say where the request came from", async () => {
  const res = await proxied(sbx, 8001, "/who", {
    headers: { "x-api-key": keyA, "x-podflare-api-key": keyA, cookie: "app=1", "x-app": "kept" },
  });
  const info = (await res.json()) as { headers: [string, string][] };
  const seen = Object.fromEntries(info.headers.map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(seen["authorization"], undefined);
  assert.equal(seen["x-api-key"], undefined);
  assert.equal(seen["x-podflare-api-key"], undefined);
  assert.equal(seen["cookie"], "app=1");
  assert.equal(seen["x-app"], "kept");
  assert.equal(seen["host"], "localhost:8001");
  assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen["x-forwarded-proto"], "http");
  assert.equal(seen["x-forwarded-host"], `127.0.0.1:${hostdPort}`);
  assert.equal(seen["x-forwarded-prefix"], `/v1/sandboxes/${sbx}/ports/8001`);
  // And what the server wrote down inside the sandbox, for every request so far (WebSockets too).
  const recorded = await bash(sbx, "cat /tmp/seen-headers");
  assert.ok(recorded.length > 0);
  assert.ok(!recorded.includes(keyA), "the sandbox must never see the API key");
  assert.ok(!/authorization/i.test(recorded));
});

/** A WebSocket to a sandbox port through the proxy (tests/support/websocket.ts speaks the protocol). */
function wsConnect(id: string, port: number, rest: string, headers: Record<string, string>): Promise<WsAnswer> {
  return wsConnectUrl(portUrl(id, port, rest), headers);
}

test("a WebSocket echo server inside answers through the proxy: text, a 200 KB binary frame, close", async () => {
  const ws = await wsConnect(sbx, 8002, "/chat?room=1", as(keyA));
  assert.equal(ws.status, 101);
  assert.equal(ws.headers["x-path"], "/chat?room=1");
  const socket = ws.socket!;
  socket.write(wsFrame(1, Buffer.from("hello through the proxy")));
  const text = await wsRead(socket);
  assert.equal(text.opcode, 1);
  assert.equal(text.payload.toString(), "hello through the proxy");
  const big = crypto.randomBytes(200_000);
  socket.write(wsFrame(2, big));
  const bin = await wsRead(socket);
  assert.equal(bin.opcode, 2);
  assert.ok(bin.payload.equals(big));
  socket.write(wsFrame(8, Buffer.from([3, 232])));
  assert.equal((await wsRead(socket)).opcode, 8);
  socket.destroy();
  const recorded = await bash(sbx, "tail -n 1 /tmp/seen-headers");
  assert.match(recorded, /sec-websocket-key/);
  assert.ok(!recorded.includes(keyA) && !/authorization/.test(recorded), "the WebSocket server must not see the key");
});

test("a fork while a WebSocket is open: the child holds no copy of the relayed connection, which keeps working and ends cleanly", async () => {
  const ws = await wsConnect(sbx, 8002, "/before-fork", as(keyA));
  assert.equal(ws.status, 101);
  const fork = await api("POST", `/v1/sandboxes/${sbx}/fork`, { n: 1 }, hostd.url, as(keyA));
  const forked = (await fork.json()) as { children: string[] };
  assert.equal(fork.status, 200, JSON.stringify(forked));
  ids.push(...forked.children);
  // No process of the child holds a socket of the parent's TCP connections (the relay's
  // included): sockets are named by inode, the parent's are in its /proc/net/tcp{,6}.
  const parentInodes = new Set((await bash(sbx, "awk 'NR>1 {print $10}' /proc/net/tcp /proc/net/tcp6")).split(/\s+/).filter((x) => x && x !== "0"));
  assert.ok(parentInodes.size > 0);
  const childSockets = (await bash(forked.children[0]!, "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -o 'socket:\\[[0-9]*' | cut -d[ -f2 || true")).split(/\s+/).filter(Boolean);
  assert.deepEqual(childSockets.filter((i) => parentInodes.has(i)), [], "the fork child holds the parent's TCP sockets");
  // Still relayed after the fork.
  ws.socket!.write(wsFrame(1, Buffer.from("after fork")));
  assert.equal((await wsRead(ws.socket!)).payload.toString(), "after fork");
  ws.socket!.destroy(); // no close frame: only the TCP connection's end tells the server
  const ended = async () => (await bash(sbx, "cat /tmp/ws-ended 2>/dev/null || true")).includes("/before-fork");
  await eventually(ended, "the server inside never saw the connection end", 10_000);
});

test("WebSocket upgrades need the key and the owner like every route; nothing listening is a 502", async () => {
  const noKey = await wsConnect(sbx, 8002, "/", {});
  assert.equal(noKey.status, 401);
  assert.equal((JSON.parse(noKey.body) as { code: string }).code, "unauthorized");
  const other = await wsConnect(sbx, 8002, "/", as(keyB));
  assert.equal(other.status, 404);
  assert.equal((JSON.parse(other.body) as { code: string }).code, "sandbox_not_found");
  const closed = await wsConnect(sbx, 8999, "/", as(keyA));
  assert.equal(closed.status, 502);
  assert.equal((JSON.parse(closed.body) as { code: string }).code, "port_not_listening");
});

test("an Upgrade asked for on another route (curl --http2 asks for h2c) is ignored: a plain HTTP/1.1 answer", async () => {
  const ask = (method: string, url: string, body?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers: { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "AAMAAABkAAQCAAAAAAIAAAAA", ...as(keyA) } });
    req.on("response", (r) => {
      let text = "";
      r.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve({ status: r.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
  const health = await ask("GET", `${hostd.url}/v1/healthz`);
  assert.deepEqual(health, { status: 200, body: "ok" });
  const list = await ask("GET", `${hostd.url}/v1/sandboxes`);
  assert.equal(list.status, 200);
  assert.ok(((JSON.parse(list.body) as { sandboxes: { id: string }[] }).sandboxes).some((s) => s.id === sbx));
  const noKey = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${hostd.url}/v1/sandboxes`, { headers: { connection: "Upgrade", upgrade: "websocket" } });
    req.on("response", (r) => resolve(r.statusCode!));
    req.on("error", reject);
    req.end();
  });
  assert.equal(noKey, 401);
  // Node gives such a request no body stream: one with a body is refused, saying why.
  const post = await ask("POST", `${hostd.url}/v1/sandboxes`, "{}");
  assert.equal(post.status, 400);
  assert.match(post.body, /without the Upgrade header/);
});

test("401 without a key, 404 for another key's sandbox or a closed one, 405 for TRACE, 400 for a bad port", async () => {
  const noKey = await fetch(portUrl(sbx, 8000, "/"));
  assert.equal(noKey.status, 401);
  assert.deepEqual(await noKey.json(), { error: "missing Authorization: Bearer <key>", code: "unauthorized" });
  const other = await proxied(sbx, 8000, "/", {}, keyB);
  assert.equal(other.status, 404);
  assert.equal(((await other.json()) as { code: string }).code, "sandbox_not_found");
  const trace = await new Promise<number>((resolve, reject) => {
    const req = http.request(portUrl(sbx, 8001, "/"), { method: "TRACE", headers: as(keyA) });
    req.on("response", (r) => {
      r.resume();
      resolve(r.statusCode!);
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(trace, 405, "methods other than the seven proxied ones answer 405");
  for (const bad of ["0", "65536", "80a", "-1", "1.5", "99999999"]) {
    const res = await proxied(sbx, bad, "/");
    assert.equal(res.status, 400, bad);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, "invalid_port");
    assert.match(body.error, /integer from 1 to 65535/);
  }
  const gone = await create();
  await api("DELETE", `/v1/sandboxes/${gone}`, undefined, hostd.url, as(keyA)).then((r) => r.arrayBuffer());
  const res = await proxied(gone, 8000, "/");
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, "sandbox_not_found");
});

test("nothing listening on the port → 502 port_not_listening, telling to start a server on 0.0.0.0 or 127.0.0.1", async () => {
  const res = await proxied(sbx, 8999, "/x");
  assert.equal(res.status, 502);
  const body = (await res.json()) as { code: string; error: string };
  assert.equal(body.code, "port_not_listening");
  assert.match(body.error, /start a server bound to 0\.0\.0\.0 or 127\.0\.0\.1 on port 8999/);
});

test("hostile servers: garbage → 502, a 1 MiB header → 502, silence or a full accept queue → 504, a bad reason phrase; hostd keeps serving", async () => {
  const id = await create();
  await putFile(id, "/srv/port_servers.py", fixture);
  // Started, then waited for (up to 10 s) until each port listens: /proc/net/tcp, no connection made.
  const listening = (p: number) => `for i in $(seq 200); do grep -Eq ':${p.toString(16).toUpperCase()} 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 && break; sleep 0.05; done`;
  await bash(id, `for m in 'garbage 9001' 'huge 9002' 'silent 9003' 'badstatus 9004'; do nohup python3 /srv/port_servers.py $m >/dev/null 2>&1 & done; ${[9001, 9002, 9003, 9004].map(listening).join("; ")}`);
  const garbage = await proxied(id, 9001, "/");
  assert.equal(garbage.status, 502);
  assert.equal(((await garbage.json()) as { code: string }).code, "upstream_error");
  const huge = await proxied(id, 9002, "/");
  assert.equal(huge.status, 502);
  assert.equal(((await huge.json()) as { code: string }).code, "upstream_error");
  const silent = await proxied(id, 9003, "/");
  assert.equal(silent.status, 504);
  const body = (await silent.json()) as { code: string; error: string };
  assert.equal(body.code, "upstream_timeout");
  assert.match(body.error, new RegExp(`within ${PROXY_TIMEOUT_MS} ms`));
  // A reason phrase Node would refuse to send on is replaced, not fatal to hostd.
  const badStatus = await proxied(id, 9004, "/");
  assert.equal(badStatus.status, 200);
  assert.equal(badStatus.statusText, "OK");
  assert.equal(await badStatus.text(), "ok");
  // A listener whose queue is full never completes the connect: 504 too, from the guest's
  // connect timeout.
  await bash(id, "nohup python3 /srv/port_servers.py full 9005 >/dev/null 2>&1 & sleep 0.5");
  const full = await proxied(id, 9005, "/");
  assert.equal(full.status, 504);
  const fullBody = (await full.json()) as { code: string; error: string };
  assert.equal(fullBody.code, "upstream_timeout");
  assert.match(fullBody.error, /did not accept the connection in time/);
  // A silent WebSocket server gets the same 504.
  const ws = await wsConnect(id, 9003, "/", as(keyA));
  assert.equal(ws.status, 504);
  // Still fine afterwards, for this sandbox's exec and the other's server.
  assert.equal(await bash(id, "echo alive"), "alive\n");
  assert.equal((await proxied(sbx, 8001, "/after")).status, 200);
});

test("a sandbox created with egress: false is served (the proxy does not go over IP)", async () => {
  const id = await create({ egress: false });
  await bash(id, "mkdir -p /srv && echo offline-ok > /srv/index.txt");
  await startServer(id, "python3 -m http.server 8000 --bind 127.0.0.1 --directory /srv", 8000);
  const res = await proxied(id, 8000, "/index.txt");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "offline-ok\n");
  // Loopback is all it has: no interface but lo inside.
  assert.equal((await bash(id, "ls /sys/class/net")).trim(), "lo");
});

test("a paused sandbox is resumed by a proxied request; an open WebSocket holds the idle clock", async () => {
  const id = await create({ idle_timeout_s: 1 });
  await putFile(id, "/srv/port_servers.py", fixture);
  await startServer(id, "python3 /srv/port_servers.py echo 8001", 8001);
  await startWsServer(id, 8002);
  const info = async (of: string) => (await (await api("GET", `/v1/sandboxes/${of}`, undefined, hostd.url, as(keyA))).json()) as { state: string; last_active_at: string };
  const state = async () => (await info(id)).state;
  const paused = await api("POST", `/v1/sandboxes/${id}/pause`, undefined, hostd.url, as(keyA));
  assert.equal(paused.status, 200);
  assert.equal(await state(), "paused");
  const res = await proxied(id, 8001, "/wake");
  assert.equal(res.status, 200);
  assert.equal(await state(), "ready");

  const ws = await wsConnect(id, 8002, "/", as(keyA));
  assert.equal(ws.status, 101);
  // Well past idle_timeout_s with no API call: a twin with the same idle_timeout_s and no
  // WebSocket, last active after this one, is paused and then closed as idle by the reaper
  // meanwhile (the tick that paused it would have paused this one too).
  const twin = await create({ idle_timeout_s: 1 });
  const [twinActive, ownActive] = [(await info(twin)).last_active_at, (await info(id)).last_active_at];
  assert.ok(Date.parse(twinActive) >= Date.parse(ownActive), `the twin was last active at ${twinActive}, before this sandbox (${ownActive}): its closing would prove nothing`);
  const twinClosed = async () => (await api("GET", `/v1/sandboxes/${twin}`, undefined, hostd.url, as(keyA)).then((r) => r.arrayBuffer().then(() => r.status))) === 404;
  await eventually(twinClosed, "the reaper did not close an idle twin sandbox (idle_timeout_s 1, no WebSocket)", 15_000);
  assert.equal(await state(), "ready", "an open WebSocket keeps the sandbox from being paused as idle");
  ws.socket!.write(wsFrame(1, Buffer.from("still here")));
  assert.equal((await wsRead(ws.socket!)).payload.toString(), "still here");
  ws.socket!.destroy();
  await eventually(async () => (await state()) === "paused", "once the WebSocket is closed the idle clock runs again", 10_000);
});

test("the SDKs' URL helpers point at the proxy: TypeScript sb.getUrl(port), Python sb.url(port)", async () => {
  await putFile(sbx, "/srv/www/hello.txt", "hello from the sandbox\n");
  const sb = await Sandbox.connect(sbx, { host: hostd.url, apiKey: keyA });
  assert.equal(sb.getUrl(8000), portUrl(sbx, 8000, "/"));
  const res = await fetch(sb.getUrl(8000) + "hello.txt", { headers: as(keyA) });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello from the sandbox\n");

  const script = `
import sys, urllib.request
from podflare import Sandbox
sb = Sandbox.connect(sys.argv[1], host=sys.argv[2], api_key=sys.argv[3])
req = urllib.request.Request(sb.url(8000) + "hello.txt", headers={"Authorization": "Bearer " + sys.argv[3]})
print(sb.url(8000))
sys.stdout.write(urllib.request.urlopen(req).read().decode())
`;
  const r = runPythonSdk(script, hostd.url, [sbx, hostd.url, keyA]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.equal(out, `${portUrl(sbx, 8000, "/")}\nhello from the sandbox\n`);
});
