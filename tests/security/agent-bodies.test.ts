// Bodies of the agent-facing surfaces (outside tester ti, 2026-12-07): POST /mcp and E2B's
// Connect streams read their bodies outside the REST reader, so a 16 MiB `[[[…]]]` held hostd's
// event loop for seconds for every tenant, and one key could hold more stalled bodies than its
// budget. Both are now read as a REST body is: refused before parsing past 64 levels, and
// counted against the key's share of the body budget (default 64 MiB).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, hostdUrl } from "../support/api.js";
import { eventually, until } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";
import { stalledBodies } from "../support/stalled-bodies.js";

const pool = new SandboxPool();
let id: string;
before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

const deep = (n: number): string => `${"[".repeat(n)}${"]".repeat(n)}`;

/** One Connect envelope (flags 0, then the length) around `message`. */
function envelope(message: string): Buffer {
  const json = Buffer.from(message);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

test("POST /mcp with a 16 MiB body nested 8 million deep is refused as a parse error before it is parsed; hostd answers at once after", async () => {
  const res = await fetch(`${hostdUrl()}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: deep(8_000_000),
  });
  const body = (await res.json()) as { error?: { code: number; message: string } };
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error?.code, -32700);
  assert.match(body.error!.message, /nests deeper than 64 levels/);
  assert.equal((await api("GET", `/v1/sandboxes/${id}`)).status, 200);
});

test("an E2B Connect stream (process.Process/Start) whose envelope nests 8 million deep is refused as invalid_argument before it is parsed", async () => {
  const res = await fetch(`${process.env.E2B_API_URL ?? hostdUrl()}/process.Process/Start`, {
    method: "POST",
    headers: { "content-type": "application/connect+json", "e2b-sandbox-id": id, "e2b-sandbox-port": "49983", "x-api-key": process.env.E2B_API_KEY ?? "any" },
    body: new Uint8Array(envelope(`{"process":{"cmd":"/bin/true","args":${deep(8_000_000)}}}`)),
  });
  const text = await res.text();
  assert.match(text, /invalid_argument/, text.slice(0, 300));
  assert.match(text, /nests deeper than 64 levels/, text.slice(0, 300));
});

// A Connect stream answers every error as a 200 whose end-of-stream envelope carries it.
for (const [what, head, refusal] of [
  ["POST /mcp (initialize: no session slot is taken first)", (n: number) => `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${n}\r\n\r\n`, /^HTTP\/1\.1 429/],
  ["an E2B Connect stream", (n: number) => `POST /process.Process/Start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/connect+json\r\nE2b-Sandbox-Id: ${id}\r\nX-API-KEY: any\r\nContent-Length: ${n}\r\n\r\n`, /"code":"resource_exhausted"/],
] as const) {
  test(`stalled 16 MiB bodies to ${what}: past the key's 64 MiB budget each is refused (too many request bodies in flight), and the refusal reaches a client that reads a second late`, async () => {
    const flood = stalledBodies(12, head, 16 * 1024 * 1024, { readAfterMs: 1000 });
    try {
      const refused = await until(async () => {
        const n = flood.answers.filter((a) => refusal.test(a)).length;
        return n >= 8 ? n : undefined;
      }, () => `bodies past the key's budget were not refused (answers: ${flood.describe()})`, 20_000);
      assert.ok(refused <= 9, `${refused} of 12 were refused: the budget holds three or four 16 MiB bodies`);
      assert.match(flood.answers.find((a) => refusal.test(a))!, /too many request bodies in flight for this key/);
      // Each refused connection is closed after its answer; none is closed without one.
      await eventually(() => flood.answers.every((a, i) => !refusal.test(a) || flood.closed[i]), () => `a refused connection stayed open: ${flood.describe()}`, 10_000);
      assert.ok(flood.closed.every((c, i) => !c || flood.answers[i] !== ""), `a connection was closed without an answer: ${flood.describe()}`);
    } finally {
      flood.close();
    }
    // Given back once the connections went: a whole body of 12 MiB is read again.
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" }, pad: "x".repeat(12 * 1024 * 1024) } });
    await eventually(async () => {
      const res = await fetch(`${hostdUrl()}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: big });
      await res.arrayBuffer();
      const sid = res.headers.get("mcp-session-id");
      if (sid) await api("DELETE", "/mcp", undefined, hostdUrl(), { "mcp-session-id": sid });
      return res.status === 200;
    }, "a 12 MiB initialize after the flood was not served", 10_000);
  });
}

test("E2B process starts with a far deadline (Connect-Timeout-Ms ~23 days) do not keep their 16 MiB messages: hostd's memory comes back", async () => {
  // The kill-at-deadline timer held the whole call (request, answer, parsed message) until the
  // deadline: 90 such starts held 1.4 GB, and a smaller heap ran out (outside tester ti).
  const pid = hostdPid();
  const before = rssBytes(pid);
  const body = new Uint8Array(envelope(JSON.stringify({ process: { cmd: "/bin/true" }, junk: "x".repeat(16 * 1024 * 1024) })));
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${process.env.E2B_API_URL ?? hostdUrl()}/process.Process/Start`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-timeout-ms": "2000000000", "e2b-sandbox-id": id, "e2b-sandbox-port": "49983", "x-api-key": process.env.E2B_API_KEY ?? "any" },
      body,
    });
    const text = await res.text();
    assert.match(text, /"end"/, `start ${i} did not run to its end: ${text.slice(0, 300)}`);
  }
  // 40 held messages are 640 MiB and more; what is not held is collected.
  let grown = 0;
  await eventually(async () => {
    grown = rssBytes(pid) - before;
    return grown < 300 * 1024 * 1024;
  }, `hostd still holds ${Math.round(grown / 1048576)} MB more than before the 40 starts`, 30_000).catch(() => {
    assert.fail(`hostd still holds ${Math.round(grown / 1048576)} MB more than before 40 finished process starts`);
  });
});
