// Slow and numerous clients cost hostd a bounded number of connections (issue 20.4): a no-key
// client trickling a body is closed right after its 401, and one peer's connections are capped
// while healthz keeps answering others. A hostd of this test's own, with a small cap.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { api, closeSandbox, createSandbox } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("http-limits", 48);
const perPeerCap = 6;
const maxConnections = 40;
const idleTimeoutMs = 3000;
const headersTimeoutMs = 2000;
const key = "pf_test_key_limits_aaaaaaaaaaaaaaaaaaaaaaaaaaa";
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({
    stateDir,
    port,
    env: {
      PODFLARE_API_KEYS: key,
      PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER: String(perPeerCap),
      PODFLARE_HTTP_MAX_CONNECTIONS: String(maxConnections),
      PODFLARE_HTTP_IDLE_TIMEOUT_MS: String(idleTimeoutMs),
      PODFLARE_HTTP_HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
    },
  });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

interface Watched {
  socket: net.Socket;
  received: () => string;
  closed: () => boolean;
}

function connect(localAddress = "127.0.0.1"): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => (closed = true));
    socket.on("end", () => (closed = true));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, received: () => Buffer.concat(chunks).toString("utf8"), closed: () => closed }));
    socket.once("error", reject);
  });
}

/** healthz from 127.0.0.2: another peer address than the test's other connections. */
function healthzFromOtherPeer(): Promise<number> {
  return healthz("127.0.0.2");
}

function healthz(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/v1/healthz", localAddress, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
  });
}

test("a client with no key trickling a large body is answered 401 and closed at once", async () => {
  const clients: Watched[] = [];
  try {
    for (let i = 0; i < perPeerCap - 1; i++) {
      const c = await connect();
      c.socket.write(
        `POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`,
      );
      clients.push(c);
    }
    // The trickle would send one more byte every 15 s; hostd must not wait for it.
    await eventually(() => clients.every((c) => c.closed()), "hostd kept no-key connections with a pending body open after its 401", 10_000);
    for (const c of clients) assert.match(c.received(), /^HTTP\/1\.1 401 /);
    assert.equal(await healthzFromOtherPeer(), 200);
  } finally {
    for (const c of clients) c.socket.destroy();
  }
});

test("the E2B routes, too, answer a client with no valid key 401 before reading its body, and close", async () => {
  // E2B's control plane, envd's Connect-RPC and HTTP routes and the code interpreter's: each with
  // a 1 MB body that never comes, without a key and with a wrong one.
  const sbx = "sbx_0123456789abcdef0123456789abcdef";
  const calls = [
    { path: "/v2/sandboxes", headers: "" },
    { path: `/sandboxes/${sbx}/timeout`, headers: "" },
    { path: "/process.Process/List", headers: `E2b-Sandbox-Id: ${sbx}\r\n` },
    { path: "/files?path=/tmp/x", headers: `E2b-Sandbox-Id: ${sbx}\r\n` },
    { path: "/execute", headers: `E2b-Sandbox-Id: ${sbx}\r\nE2b-Sandbox-Port: 49999\r\n` },
  ];
  for (const auth of ["", "X-API-KEY: pf_not_a_key_of_this_hostd\r\n"]) {
    const clients: { path: string; c: Watched }[] = [];
    try {
      for (const { path, headers } of calls) {
        const c = await connect();
        c.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}${auth}Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`);
        clients.push({ path, c });
      }
      await eventually(() => clients.every(({ c }) => c.closed()), `hostd kept E2B connections with a pending body open (${auth ? "wrong key" : "no key"}): ${clients.filter(({ c }) => !c.closed()).map(({ path }) => path).join(", ")}`, 10_000);
      for (const { path, c } of clients) assert.match(c.received(), /^HTTP\/1\.1 401 /, `${path}: ${c.received().slice(0, 200)}`);
    } finally {
      for (const { c } of clients) c.socket.destroy();
    }
  }
});

test("a keep-alive client sending bodies without a key gets every 401, also on a reused connection", async () => {
  // Node's agent sends its next request on a connection at once; an early answer that did not say
  // `Connection: close` made that request a "socket hang up" instead of its 401.
  const sbx = "sbx_0123456789abcdef0123456789abcdef";
  const routes = [
    { path: `/v1/sandboxes/${sbx}/exec`, headers: {} },
    { path: "/v2/sandboxes", headers: {} },
    { path: "/process.Process/List", headers: { "e2b-sandbox-id": sbx } },
  ];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const { path, headers } of routes) {
      for (const size of [19, 200_000, 5_000_000, 19]) {
        const answer = await new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", ...headers } }, (res) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d.toString("utf8")));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
          });
          req.on("error", reject);
          req.end("x".repeat(size));
        });
        assert.equal(answer.status, 401, `${path}, ${size} bytes: ${answer.text}`);
        assert.match(answer.text, /key/i, `${path}, ${size} bytes`);
      }
    }
  } finally {
    agent.destroy();
  }
});

test("connections from one peer over the cap are refused: a request on one is answered 503 (not served) and closed, a silent one closed; healthz from another peer still answers", async () => {
  const held: Watched[] = [];
  try {
    // From 127.0.0.3, so that the previous test's connections (closing) do not count.
    for (let i = 0; i < perPeerCap; i++) held.push(await connect("127.0.0.3"));
    // A request on a refused connection is told it was not served (it was reset before, so an
    // edge could not tell whether a create it had written was read; outside tester th).
    const extra = await connect("127.0.0.3");
    held.push(extra);
    extra.socket.write(`POST /v1/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    await eventually(() => extra.closed(), `a connection over the per-peer cap of ${perPeerCap} stayed open`, 10_000);
    assert.match(extra.received(), /^HTTP\/1\.1 503 /);
    assert.match(extra.received(), /"code":"unavailable"/);
    assert.match(extra.received(), /connections open from .*127\.0\.0\.3.*PODFLARE_HTTP_MAX_CONNECTIONS_PER_PEER/);
    const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, { authorization: `Bearer ${key}` })).json()) as { sandboxes: unknown[] };
    assert.equal(list.sandboxes.length, 0, "the refused create was served");
    assert.ok(held.slice(0, perPeerCap).every((c) => !c.closed()), "connections within the cap must stay open");
    // (They are closed by the headers timeout from here on: they never send a head.)
    const silent = await connect("127.0.0.3");
    held.push(silent);
    await eventually(() => silent.closed(), "a silent connection over the cap stayed open", 15_000);
    assert.match(silent.received(), /^$|^HTTP\/1\.1 408 /, "a silent connection over the cap was answered something other than the headers timeout's 408");
    assert.equal(await healthzFromOtherPeer(), 200);
  } finally {
    for (const c of held) c.socket.destroy();
  }
  // Once they are gone (hostd sees the closes shortly after) the peer may connect again.
  await eventually(async () => (await healthz("127.0.0.3").catch(() => 0)) === 200, "the peer stayed refused after closing its connections", 10_000);
});

async function execText(id: string, code: string): Promise<string> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, language: "bash" }, hostd.url, { authorization: `Bearer ${key}` });
  assert.equal(res.status, 200);
  return await res.text();
}

test("the idle timeout cuts a client that stops reading, never an exec that is quiet for longer", async () => {
  const id = await createSandbox({}, hostd.url, { authorization: `Bearer ${key}` });
  try {
    // Quiet for longer than the idle timeout: hostd is the one with nothing to say, not the client.
    const quiet = await execText(id, `sleep ${(idleTimeoutMs * 2) / 1000}; echo done`);
    assert.match(quiet, /"data":"done\\n"/);
    assert.match(quiet, /"type":"exit","data":0/);

    // A client that sends an exec of `yes` and reads nothing is closed once nothing moves.
    const c = await connect();
    const body = JSON.stringify({ language: "bash", code: "yes" });
    c.socket.write(
      `POST /v1/sandboxes/${id}/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    // Its first output shows the exec is running (before the next one is queued); from then
    // on the client reads nothing.
    await eventually(() => c.received().length > 0, "the exec of `yes` did not start", 30_000);
    c.socket.pause();
    const stoppedReading = Date.now();
    try {
      // One exec at a time per sandbox: the next one answers only once hostd has cut the
      // client that read nothing and its `yes` was interrupted.
      const next = await fetch(`${hostd.url}/v1/sandboxes/${id}/exec`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ code: "echo again", language: "bash" }),
        signal: AbortSignal.timeout(idleTimeoutMs * 10),
      });
      assert.match(await next.text(), /"data":"again\\n"/);
      // Cut within a quarter past the idle timeout (it came at twice the timeout: Node skips a
      // socket's first timeout while its write queue moves), plus the interrupt's moment.
      const tookMs = Date.now() - stoppedReading;
      assert.ok(tookMs < idleTimeoutMs * 1.25 + 1500, `the client that read nothing held the sandbox ${tookMs} ms (idle timeout ${idleTimeoutMs} ms)`);
    } finally {
      c.socket.destroy();
    }
  } finally {
    await closeSandbox(id, hostd.url, { authorization: `Bearer ${key}` });
  }
});

test("a client that never finishes its headers gets 408 and is closed soon after the headers timeout, not up to 30 s later", async () => {
  const c = await connect();
  const started = Date.now();
  c.socket.write("GET /v1/sandboxes HTTP/1.1\r\nHost: a\r\n");
  // Node looked for such connections every 30 s: the 408 came after 30 to 40 s.
  await eventually(() => c.closed(), "the connection is closed", headersTimeoutMs + 3000);
  assert.match(c.received(), /^HTTP\/1\.1 408 /);
  assert.equal(bodyOf(c.received()).code, "request_timeout");
  assert.ok(Date.now() - started >= headersTimeoutMs - 100, "not before the timeout");
});

function bodyOf(answer: string): { error: string; code: string } {
  return JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: string; code: string };
}

test("what Node's parser refuses before any route gets the API's error envelope: 431 headers_too_large, 400 bad_request (it was a bare status line)", async () => {
  const refused = async (raw: string) => {
    const c = await connect();
    c.socket.write(raw);
    await eventually(() => c.closed(), "the connection is closed after the answer", 5000);
    return c.received();
  };
  const big = await refused(`GET /v1/healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  assert.match(big, /content-type: application\/json/i);
  assert.deepEqual(Object.keys(bodyOf(big)).sort(), ["code", "error"]);
  assert.equal(bodyOf(big).code, "headers_too_large");
  assert.match(bodyOf(big).error, /headers are over \d+ bytes/);
  const negative = await refused("POST /v1/sandboxes HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n");
  assert.match(negative, /^HTTP\/1\.1 400 /);
  assert.equal(bodyOf(negative).code, "bad_request");
  assert.match(bodyOf(negative).error, /not a valid HTTP\/1\.1 request/);
  assert.equal(await healthzFromOtherPeer(), 200);
});

test("past PODFLARE_HTTP_MAX_CONNECTIONS a new connection is closed unanswered, and hostd's log says so (such a reset left no trace)", async () => {
  const held: Watched[] = [];
  try {
    // Eight peers at their cap of six: 48 connections against the host's 40.
    for (let peer = 10; peer < 18; peer++) {
      for (let i = 0; i < perPeerCap; i++) held.push(await connect(`127.0.0.${peer}`));
    }
    await eventually(() => held.some((c) => c.closed() && c.received() === ""), "no connection past the host's cap was closed", 10_000);
    await eventually(() => /dropping new connections .*PODFLARE_HTTP_MAX_CONNECTIONS/.test(hostd.log()), "hostd's log does not say it dropped connections", 10_000);
  } finally {
    for (const c of held) c.socket.destroy();
  }
  await eventually(async () => (await healthzFromOtherPeer().catch(() => 0)) === 200, "hostd did not take connections again once they closed", 10_000);
});
