// Requests a second per key (PODFLARE_HTTP_REQUESTS_PER_S_PER_KEY). An outside tester pipelined
// 20,000 GETs on each of 50 connections and never read the answers: hostd answered them as fast
// as it could and other tenants' calls waited up to 3.7 s. Now a key past its rate waits, and its
// connections are not read meanwhile: the pipelined requests stay in its own sockets. Against a
// hostd of its own with two keys and a rate of 100 a second.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("request-rate", 83);
const attacker = "pf_live_rateattacker0123456789abcdefghijklmn";
const victim = "pf_live_ratevictim000123456789abcdefghijklmn";
// Its own key: requests the first flood left owing do not slow the second.
const rpcAttacker = "pf_live_raterpcattack0123456789abcdefghijklm";
let hostd: TestHostd;
let sandbox = "";

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: `${attacker},${victim},${rpcAttacker}`, PODFLARE_HTTP_REQUESTS_PER_S_PER_KEY: "100" } });
  const res = await api("POST", "/v1/sandboxes", {}, hostd.url, { authorization: `Bearer ${victim}` });
  assert.equal(res.status, 200);
  sandbox = ((await res.json()) as { id: string }).id;
});

after(async () => {
  await api("DELETE", `/v1/sandboxes/${sandbox}`, undefined, hostd.url, { authorization: `Bearer ${victim}` }).catch(() => undefined);
  await hostd.stop();
  teardownStateDir(stateDir);
});

/**
 * Pipelines `request` 2,000 times on each of 5 connections and never reads more than it counts:
 * `total()` is the answers (status lines starting with `status`) so far; `close()` ends it.
 */
function flood(request: string, status: string): { total: () => number; close: () => void } {
  const answered: number[] = [];
  const sockets: net.Socket[] = [];
  for (let c = 0; c < 5; c++) {
    const s = net.connect(port, "127.0.0.1");
    sockets.push(s);
    answered.push(0);
    s.on("error", () => undefined);
    s.on("data", (d: Buffer) => (answered[c]! += d.toString("latin1").split(`HTTP/1.1 ${status}`).length - 1));
    s.write(request.repeat(2000));
  }
  return { total: () => answered.reduce((a, b) => a + b, 0), close: () => sockets.forEach((s) => s.destroy()) };
}

test("a key pipelining thousands of requests is answered at its rate; another key's calls go on; hostd holds none of the backlog", async () => {
  const pid = hostdPid(hostd.url);
  const before = rssBytes(pid);
  const request = `GET /v1/sandboxes/sbx_${"0".repeat(32)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${attacker}\r\n\r\n`;
  const { total, close } = flood(request, "404");
  try {
    const started = Date.now();
    // Meanwhile the other key's calls are answered.
    for (let i = 0; i < 20; i++) {
      const r = await api("POST", `/v1/sandboxes/${sandbox}/exec`, { code: "print(1)" }, hostd.url, { authorization: `Bearer ${victim}` });
      assert.equal(r.status, 200);
      await r.text();
    }
    // 400 answers: a burst of 200, then 100 a second, so not before about 2 s (unpaced, the
    // 10,000 came at once).
    await until(async () => total() >= 400 || undefined, "the key's requests were not answered at its rate", 30_000);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 1.8, `400 answers in ${seconds.toFixed(2)} s: past the key's rate (${total()} by then)`);
    assert.ok(rssBytes(pid) - before < 64 * 1024 * 1024, "hostd's memory grew with the backlog");
  } finally {
    close();
  }
});

test("E2B Connect-RPC calls are paced by the same key's rate: a pipelined flood is answered at it", async () => {
  const body = "{}";
  const request =
    `POST /process.Process/List HTTP/1.1\r\nHost: x\r\nE2b-Sandbox-Id: sbx_${"0".repeat(32)}\r\nX-API-KEY: ${rpcAttacker}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const { total, close } = flood(request, "");
  try {
    const started = Date.now();
    // The other key is still answered meanwhile.
    const r = await api("GET", `/v1/sandboxes/${sandbox}`, undefined, hostd.url, { authorization: `Bearer ${victim}` });
    assert.equal(r.status, 200);
    await r.text();
    await until(async () => total() >= 400 || undefined, "the key's Connect-RPC calls were not answered at its rate", 30_000);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 1.8, `400 Connect-RPC answers in ${seconds.toFixed(2)} s: past the key's rate (${total()} by then)`);
  } finally {
    close();
  }
});
