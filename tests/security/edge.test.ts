// The edge (issue 18) as an attacker meets it: it never writes a key to its log (access log on,
// error paths taken), and it forwards only paths to its configured regions: an absolute-form or
// authority-form request-target, CONNECT, or a region named by URL reaches nothing else.
// An app behind the port proxy never learns an origin's internal address. A real hostd origin
// and `podflare edge` as its own process (ownHostd offsets 75-77).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually, until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const { stateDir, port } = ownHostd("edge-sec", 75);
const edgePort = ownHostd("edge-sec-edge", 76).port;
const deadPort = ownHostd("edge-sec-dead", 77).port; // nothing listens: a region that is down
const keys = ["pf_test_key_edgesec_aaaaaaaaaaaaaaaaaaaaaaaaaa", "pf_test_key_edgesec_bbbbbbbbbbbbbbbbbbbbbbbbbb", "pf_test_key_edgesec_cccccccccccccccccccccccccc"];
const edgeUrl = `http://127.0.0.1:${edgePort}`;
let hostd: TestHostd;
let edge: ChildProcess;
let edgeOutput = "";

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_REGION: "sec", PODFLARE_API_KEYS: keys.join(",") } });
  edge = spawn(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "edge", "--region", `sec=${hostd.url}`, "--region", `dead=http://127.0.0.1:${deadPort}`], {
    env: { ...process.env, PODFLARE_EDGE_ADDR: `127.0.0.1:${edgePort}`, PODFLARE_EDGE_ACCESS_LOG: "1", PODFLARE_EDGE_PROBE_MS: "200" },
  });
  edge.stdout!.on("data", (d: Buffer) => (edgeOutput += d));
  edge.stderr!.on("data", (d: Buffer) => (edgeOutput += d));
  await eventually(async () => (await fetch(`${edgeUrl}/v1/healthz`).catch(() => undefined))?.ok === true, "podflare edge did not start", 15_000);
});
after(async () => {
  if (edge.exitCode === null) await new Promise((r) => edge.once("exit", r).kill("SIGTERM"));
  const list = (await (await fetch(`${hostd.url}/v1/sandboxes`, { headers: { authorization: `Bearer ${keys[0]}` } })).json()) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes) await fetch(`${hostd.url}/v1/sandboxes/${s.id}`, { method: "DELETE", headers: { authorization: `Bearer ${keys[0]}` } });
  await hostd.stop();
  teardownStateDir(stateDir);
});

/** Sends raw bytes and returns what comes back until the edge closes or answers one response. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(edgePort, "127.0.0.1", () => s.write(request));
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const m = /content-length: (\d+)/i.exec(got);
      const end = got.indexOf("\r\n\r\n");
      if (m && end >= 0 && got.length >= end + 4 + Number(m[1])) s.destroy();
    });
    s.on("close", () => resolve(got));
    s.on("error", reject);
  });
}

test("the edge never writes a key to its log: Authorization, X-API-Key and key query parameters, on answers and on errors", async () => {
  const [k1, k2, k3] = keys as [string, string, string];
  const created = await fetch(`${edgeUrl}/v1/sandboxes`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${k1}`, "x-api-key": k2 } });
  assert.equal(created.status, 200);
  const { id } = (await created.json()) as { id: string };
  await (await fetch(`${edgeUrl}/v1/sandboxes/${id}?api_key=${k3}&token=${k3}`, { headers: { authorization: `Bearer ${k1}` } })).arrayBuffer();
  // Error paths: a region that is down, a key the origin refuses, an id no region makes.
  const down = await fetch(`${edgeUrl}/v1/sandboxes`, { method: "POST", body: JSON.stringify({ region: "dead" }), headers: { authorization: `Bearer ${k2}` } });
  assert.equal(down.status, 503);
  assert.equal((await fetch(`${edgeUrl}/v1/sandboxes`, { headers: { authorization: `Bearer ${k3}x` } })).status, 401);
  await (await fetch(`${edgeUrl}/v1/sandboxes/sbx_ffff${"0".repeat(28)}`, { headers: { "x-api-key": k2, authorization: `Bearer ${k1}` } })).arrayBuffer();
  await (await fetch(`${edgeUrl}/v1/sandboxes/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${k1}` } })).arrayBuffer();
  await eventually(() => edgeOutput.includes(`DELETE /v1/sandboxes/${id}`), "the access log did not show the requests");
  assert.match(edgeOutput, /authorization":"\[redacted\]"/);
  for (const k of keys) assert.ok(!edgeOutput.includes(k), `key ${k.slice(0, 24)}… reached the edge's log`);
});

test("a request-target that is not a path is refused by the edge, never forwarded to a region", async () => {
  for (const target of ["http://169.254.169.254/latest/meta-data/", "//169.254.169.254/latest", "169.254.169.254:80"]) {
    const answer = await raw(`GET ${target} HTTP/1.1\r\nhost: 169.254.169.254\r\nconnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /, `${target}: ${answer.slice(0, 200)}`);
    // The parser (llhttp, as in node:http) refuses some forms itself; those it passes on, the
    // edge does. Either way the answer is a 400 bad_request, and no region saw the request.
    if (!answer.endsWith("\r\n\r\n")) assert.match(answer, /(origin-form|not valid HTTP\/1\.1).*"code":"bad_request"/);
  }
  const connect = await raw("CONNECT 169.254.169.254:80 HTTP/1.1\r\nhost: 169.254.169.254:80\r\n\r\n");
  assert.doesNotMatch(connect, /^HTTP\/1\.1 2/, "CONNECT must not open a tunnel");
});

test("a region named by URL or host is refused, not a destination", async () => {
  // Not region names at all: 400 bad_request, as hostd answers them; a well-formed name no
  // region has: region_unknown.
  for (const [region, code] of [["http://169.254.169.254", "bad_request"], ["127.0.0.1:22", "bad_request"], ["sec.evil", "bad_request"], ["mars", "region_unknown"]] as const) {
    const byBody = await fetch(`${edgeUrl}/v1/sandboxes`, { method: "POST", body: JSON.stringify({ region }), headers: { authorization: `Bearer ${keys[0]}` } });
    assert.equal(byBody.status, 400);
    assert.equal(((await byBody.json()) as { code: string }).code, code, region);
    const byHeader = await fetch(`${edgeUrl}/v1/usage`, { headers: { authorization: `Bearer ${keys[0]}`, "x-podflare-region": region } });
    assert.equal(byHeader.status, 400);
  }
});

test("an app behind the port proxy, reached through the edge, never learns the origin's internal address", async () => {
  const as = { authorization: `Bearer ${keys[0]}` };
  const created = await fetch(`${edgeUrl}/v1/sandboxes`, { method: "POST", body: "{}", headers: as });
  const { id } = (await created.json()) as { id: string };
  const fixture = fs.readFileSync(path.join(root, "tests/integration/fixtures/port_servers.py"));
  assert.equal((await fetch(`${edgeUrl}/v1/sandboxes/${id}/files?path=/srv/port_servers.py`, { method: "PUT", body: fixture, headers: as })).status, 204);
  const start = await fetch(`${edgeUrl}/v1/sandboxes/${id}/exec`, { method: "POST", headers: as, body: JSON.stringify({ language: "bash", code: "nohup python3 /srv/port_servers.py echo 8001 > /tmp/echo.log 2>&1 &" }) });
  await start.text();
  const text = await until(async () => {
    const res = await fetch(`${edgeUrl}/v1/sandboxes/${id}/ports/8001/whoami`, { headers: as });
    const body = await res.text();
    return res.status === 200 ? body : undefined;
  }, "the echo server inside did not come up");
  const origin = new URL(hostd.url).host;
  assert.ok(!text.includes(origin), `the app saw the origin's address ${origin}: ${text}`);
  assert.match(text, new RegExp(`"x-forwarded-host", "127\\.0\\.0\\.1:${edgePort}"`, "i"));
});

test("callers never learn an origin's address from the edge's errors or /v1/regions", async () => {
  const as = { authorization: `Bearer ${keys[0]}` };
  const texts = [
    await (await fetch(`${edgeUrl}/v1/sandboxes`, { method: "POST", body: JSON.stringify({ region: "dead" }), headers: as })).text(),
    await (await fetch(`${edgeUrl}/v1/usage`, { headers: { ...as, "x-podflare-region": "dead" } })).text(),
    await (await fetch(`${edgeUrl}/v1/regions`, { headers: as })).text(),
    await (await fetch(`${edgeUrl}/metrics`)).text(),
  ];
  assert.match(texts[0]!, /region_unavailable/);
  for (const t of texts) {
    assert.ok(!t.includes(`:${deadPort}`) && !t.includes(new URL(hostd.url).host), `an origin address in: ${t.slice(0, 300)}`);
  }
});
