import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { jsonLogger } from "../log.js";
import { PodflareError } from "@podflare/protocol";
import { sendError } from "./http.js";
import { requestObserver } from "./request-log.js";

async function serve(handler: (res: http.ServerResponse) => void, fn: (url: string, lines: Record<string, unknown>[]) => Promise<void>) {
  const lines: Record<string, unknown>[] = [];
  const observe = requestObserver(jsonLogger((l) => lines.push(JSON.parse(l) as Record<string, unknown>)));
  const server = http.createServer((req, res) => {
    const trace = observe(req, res);
    trace.route = "/t/:id";
    trace.keyId = "key_0123456789abcdef";
    trace.sandboxId = req.url?.startsWith("/bad") ? "not-an-id" : "sbx_0123456789abcdef0123456789abcdef";
    handler(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines);
  } finally {
    server.close();
  }
}

test("a raw head keeps its repeated headers and gets the request id; a server's own id stays", async () => {
  await serve(
    (res) => {
      res.writeHead(200, "OK", ["Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Length", "2"]);
      res.end("ok");
    },
    async (url) => {
      const r = await fetch(url, { headers: { "x-request-id": "abc-1" } });
      assert.deepEqual(r.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(r.headers.get("x-request-id"), "abc-1");
    },
  );
  await serve(
    (res) => {
      res.writeHead(200, ["X-Request-Id", "inside"]);
      res.end();
    },
    async (url) => assert.equal((await fetch(url)).headers.get("x-request-id"), "inside"),
  );
});

test("an object head, an implicit head; a strange incoming id is replaced", async () => {
  await serve(
    (res) => {
      res.writeHead(201, { "content-type": "text/plain" });
      res.end("x");
    },
    async (url) => {
      const r = await fetch(url, { headers: { "x-request-id": "has space" } });
      assert.match(r.headers.get("x-request-id")!, /^req_[0-9a-f]{24}$/);
    },
  );
  await serve(
    (res) => res.end("implicit"),
    async (url) => assert.match((await fetch(url)).headers.get("x-request-id")!, /^req_/),
  );
});

test("one JSON line per request with the chosen fields; a sandbox id only when it is one", async () => {
  await serve(
    (res) => {
      res.writeHead(503);
      res.end();
    },
    async (url, lines) => {
      await (await fetch(url, { headers: { "x-request-id": "r1" } })).arrayBuffer();
      await (await fetch(`${url}/bad?secret=1`, { headers: { "x-request-id": "r2" } })).arrayBuffer();
      // The line is written when the response closes, which may come after fetch resolved.
      const deadline = Date.now() + 5000;
      while (lines.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      const [a, b] = lines;
      assert.deepEqual(Object.keys(a!).sort(), ["duration_ms", "key_id", "level", "method", "msg", "request_id", "route", "sandbox_id", "status", "ts"]);
      assert.equal(a!.level, "error");
      assert.equal(a!.status, 503);
      assert.equal(a!.route, "/t/:id");
      assert.equal(b!.request_id, "r2");
      assert.equal(b!.sandbox_id, undefined);
      assert.ok(!JSON.stringify(b).includes("secret"));
    },
  );
});

async function linesOf(url: string, lines: Record<string, unknown>[], n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (lines.length < n && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, n, "request lines missing");
}

test("an error answer's line carries its code; a stream an error cuts after its head says cut, not just 200", async () => {
  await serve(
    (res) => sendError(res, new PodflareError("sandbox_not_found", "sandbox x not found"), () => {}),
    async (url, lines) => {
      assert.equal((await fetch(url)).status, 404);
      await linesOf(url, lines, 1);
      assert.equal(lines[0]!.status, 404);
      assert.equal(lines[0]!.error_code, "sandbox_not_found");
      assert.equal(lines[0]!.cut, undefined);
    },
  );
  await serve(
    (res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"type":"stdout"}\n', () => sendError(res, new PodflareError("runtime_error", "the guest went away"), () => {}));
    },
    async (url, lines) => {
      const r = await fetch(url);
      await r.text().catch(() => "cut");
      await linesOf(url, lines, 1);
      assert.equal(lines[0]!.status, 200);
      assert.equal(lines[0]!.cut, true);
      assert.equal(lines[0]!.error_code, "runtime_error");
      assert.equal(lines[0]!.level, "error", "cut by a 500 error");
    },
  );
  await serve(
    (res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end('{"type":"exit"}\n');
    },
    async (url, lines) => {
      await (await fetch(url)).text();
      await linesOf(url, lines, 1);
      assert.equal(lines[0]!.cut, undefined, "a whole answer is not cut");
      assert.equal(lines[0]!.error_code, undefined);
    },
  );
});
