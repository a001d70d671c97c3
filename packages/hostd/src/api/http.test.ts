// A long JSON list answer to a client that does not read pins about one piece in hostd, not the
// whole answer; once the client reads, the answer is whole and valid JSON.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sendError, streamJsonList } from "./http.js";

test("streamJsonList: a client that does not read holds hostd at a bounded amount; reading gets the whole list", async () => {
  const items = Array.from({ length: 1000 }, (_, i) => ({ id: i, metadata: { blob: "m".repeat(16 * 1024) } })); // ~16 MB as JSON
  let serverRes: http.ServerResponse | undefined;
  let finished = false;
  const server = http.createServer((req, res) => {
    serverRes = res;
    void streamJsonList(res, "sandboxes", items).then(() => (finished = true));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`http://127.0.0.1:${port}/`, resolve).on("error", reject));
    answer.pause();
    // Wait until the server stops making progress (it waits for the client), then look.
    let last = -1;
    let still = 0;
    const deadline = Date.now() + 20_000;
    while (still < 25) {
      assert.ok(Date.now() < deadline, "the server never settled");
      await new Promise((r) => setTimeout(r, 20));
      const now = serverRes?.writableLength ?? -1;
      still = now === last ? still + 1 : 0;
      last = now;
    }
    assert.equal(finished, false, "the whole answer was handed to the socket although the client read nothing");
    assert.ok(last < 1024 * 1024, `hostd holds ${last} bytes for a client that does not read`);
    const chunks: Buffer[] = [];
    answer.on("data", (c: Buffer) => chunks.push(c));
    answer.resume();
    await new Promise((r) => answer.on("end", r));
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { sandboxes: typeof items };
    assert.equal(body.sandboxes.length, items.length);
    assert.deepEqual(body.sandboxes[999], items[999]);
    assert.equal(answer.headers["content-type"], "application/json");
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("streamJsonList: an empty list is valid JSON", async () => {
  const server = http.createServer((_req, res) => void streamJsonList(res, "sandboxes", []));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.deepEqual(await res.json(), { sandboxes: [] });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("sendError: hostd's own bug answers 500 internal without its text (a host path, a helper's stderr); the log has it", async () => {
  const logged: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    sendError(res, new Error("enter: exit 1: Traceback … /var/lib/podflare/run/sbx_x/kernel.sock"), (m) => logged.push(m));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(res.status, 500);
    assert.equal(body.code, "internal");
    assert.match(body.error, /X-Request-Id/);
    assert.doesNotMatch(body.error, /\/var\/lib|Traceback|kernel\.sock/);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /internal error: .*\/var\/lib\/podflare\/run/);
  } finally {
    server.close();
  }
});

test("sendError: the metadata store's disk full answers 507 no_space naming the state dir, not 500 'report it'", async () => {
  const server = http.createServer((req, res) => {
    req.resume();
    sendError(res, Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }), () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(res.status, 507);
    assert.equal(body.code, "no_space");
    assert.match(body.error, /PODFLARE_STATE_DIR/);
  } finally {
    server.close();
  }
});
