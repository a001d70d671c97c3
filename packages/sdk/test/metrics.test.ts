// Sandbox.metrics() against a stand-in server: the GET it sends and the camelCase it returns.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Sandbox, SandboxClosedError, SandboxNotFoundError } from "podflare";
import { createAnswer, json, startStandIn, type StandIn } from "./support/stand-in-server.js";

let server: StandIn;
before(async () => {
  server = await startStandIn();
});
after(async () => {
  await server.close();
});

test("metrics() reads GET /v1/sandboxes/:id/metrics into camelCase with a Date", async () => {
  const wire = { id: "", state: "ready", cpu_usec: 1500, memory_bytes: 2 ** 20, memory_limit_bytes: 2 ** 30, disk_bytes: 4096, disk_limit_bytes: 2 ** 32, pids: 3, ts: 1765000000000 };
  server.handle((req, res) => {
    if (req.method === "POST" && req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.method === "GET" && req.path.endsWith("/metrics")) return json(res, 200, { ...wire, id: req.path.split("/")[3] });
    if (req.method === "DELETE") return void res.writeHead(204).end();
    json(res, 404, { error: "sandbox gone", code: "sandbox_not_found" });
  });
  const sb = await Sandbox.create({ host: server.url });
  const m = await sb.metrics();
  assert.deepEqual(m, {
    id: sb.id,
    state: "ready",
    cpuUsec: 1500,
    memoryBytes: 2 ** 20,
    memoryLimitBytes: 2 ** 30,
    diskBytes: 4096,
    diskLimitBytes: 2 ** 32,
    pids: 3,
    at: new Date(1765000000000),
  });
  const get = server.requests.find((r) => r.path.endsWith("/metrics"))!;
  assert.equal(get.method, "GET");
  assert.equal(get.path, `/v1/sandboxes/${sb.id}/metrics`);
  await sb.close();
  await assert.rejects(sb.metrics(), SandboxClosedError);
  const other = await Sandbox.create({ host: server.url });
  server.handle((_req, res) => json(res, 404, { error: "sandbox gone", code: "sandbox_not_found" }));
  await assert.rejects(other.metrics(), SandboxNotFoundError);
});
