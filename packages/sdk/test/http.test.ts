// The transport against a real local HTTP server: a read that meets stale keep-alive sockets is
// sent again once, on a connection of its own; a call that may have been acted on never is.
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { test } from "node:test";
import { HttpClient } from "podflare";

test("a read on a stale pooled socket is sent again on a fresh connection, even when every pooled socket is stale; a POST never", async () => {
  // The server serves the first request of each connection and drops the connection on the
  // next one, as a server does with sockets it has closed while they sat in the client's pool.
  const served = new WeakMap<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (n > 1) {
      req.socket.destroy();
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: n }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const client = new HttpClient({ host: `http://127.0.0.1:${port}` });
    // Three sockets go into the pool, each having served one request.
    await Promise.all([1, 2, 3].map(() => client.json("GET", "/x")));
    // The next read takes a pooled socket (dropped), then must not take another pooled one.
    assert.deepEqual(await client.json("GET", "/v1/sandboxes"), { ok: 1 });
    // A POST the server took before the connection broke may have been acted on: not sent again.
    await Promise.all([1, 2].map(() => client.json("GET", "/x"))); // the other two stale sockets
    await client.json("GET", "/x"); // a new pooled socket that has served one request
    await assert.rejects(client.json("POST", "/v1/sandboxes", { json: {} }), (err: Error) => err.name === "ConnectionError");
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
