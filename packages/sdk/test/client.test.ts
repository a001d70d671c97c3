// Client: one set of connection settings shared by sandboxes (the hosted SDK's `Client`).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, Sandbox, type Event, type ExecEvent } from "podflare";
import { createAnswer, json, startStandIn, type StandIn } from "./support/stand-in-server.js";

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
let server: StandIn;

before(async () => {
  server = await startStandIn();
  server.handle((req, res) => {
    if (req.method === "POST" && req.path === "/v1/sandboxes") return json(res, 200, createAnswer());
    if (req.method === "GET" && req.path === "/v1/sandboxes") return json(res, 200, { sandboxes: [] });
    res.writeHead(204).end();
  });
});
after(() => server.close());

test("sandboxes made with { client } use its host, key, region and traceparent", async () => {
  const client = new Client({ host: server.url, apiKey: "pk_1", region: "us-west", traceparent: TRACE });
  const a = await Sandbox.create({ client });
  const b = await Sandbox.create({ client, region: "us-west" });
  assert.equal(a.host, server.url);
  await a.close();
  await b.close();
  assert.deepEqual(await Sandbox.listSandboxes({ client }), []);
  assert.equal(server.requests.length, 5);
  for (const r of server.requests) {
    assert.equal(r.headers["authorization"], "Bearer pk_1");
    assert.equal(r.headers["traceparent"], TRACE);
    assert.equal(r.headers["x-podflare-region"], "us-west");
  }
  assert.equal(JSON.parse(server.requests[0]!.body.toString()).region, "us-west");
});

test("connection options beside a client are a TypeError naming the Client", async () => {
  const client = new Client({ host: server.url });
  const before = server.requests.length;
  for (const extra of [{ host: server.url }, { apiKey: "k" }, { region: "eu" }, { timeoutMs: 5 }]) {
    await assert.rejects(Sandbox.create({ client, ...extra }), /to new Client/);
  }
  await assert.rejects(Sandbox.create({ client: server.url as unknown as Client }), TypeError);
  assert.equal(server.requests.length, before);
});

test("Event is the exec event type", () => {
  const ev: Event = { type: "exit", data: 0, seq: 1, ts: 2 };
  const same: ExecEvent = ev;
  assert.equal(same.type, "exit");
});
