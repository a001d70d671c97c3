// PODFLARE_NETWORK=off: every sandbox has loopback only, creates asking for egress are told so,
// and the network route answers 503 with what to do.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, bash, closeSandbox } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("net-off", 41);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_NETWORK: "off" } });
});

after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("networking off: loopback only, a warning on create, 503 on PUT /network", async () => {
  const res = await api("POST", "/v1/sandboxes", {}, hostd.url);
  const created = (await res.json()) as { id: string; applied: { egress: boolean }; warnings: string[] };
  assert.equal(res.status, 200);
  try {
    assert.equal(created.applied.egress, false);
    assert.match(created.warnings.join("\n"), /networking is turned off on this host/);
    assert.equal((await bash(created.id, "ls /sys/class/net", {}, hostd.url)).stdout.trim(), "lo");
    const put = await api("PUT", `/v1/sandboxes/${created.id}/network`, { allow_out: [] }, hostd.url);
    const body = (await put.json()) as { code: string; error: string };
    assert.equal(put.status, 503);
    assert.equal(body.code, "unavailable");
    assert.match(body.error, /PODFLARE_NETWORK=off/);
  } finally {
    await closeSandbox(created.id, hostd.url);
  }
});
