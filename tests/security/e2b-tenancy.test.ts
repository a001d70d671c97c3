// E2B compatibility with keys on (a hostd of this test's own, two tenants): a wrong key gets
// E2B's 401; sandbox traffic routed by `E2b-Sandbox-Id` never reaches another tenant's
// sandbox, whether the attacker sends its own API key, its own sandbox's access token, a
// forged token or nothing; access tokens open only the sandbox they were issued for.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { AuthenticationError, Sandbox, SandboxNotFoundError } from "e2b";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { pointE2bAt } from "../e2b/support.js";

const { stateDir, port } = ownHostd("e2b-tenancy", 23);
const keyA = "pf_test_e2b_tenant_a_0123456789abcdef";
const keyB = "pf_test_e2b_tenant_b_0123456789abcdef";
const adminKey = "pf_test_e2b_admin_0123456789abcdef";
let hostd: TestHostd;
let victim: Sandbox;
let attacker: Sandbox;
const SECRET = "tenant A's secret";

const tokenOf = (s: Sandbox) => (s as unknown as { envdAccessToken: string }).envdAccessToken;

/** A raw envd request for tenant A's sandbox, with the headers an attacker chooses. */
async function readVictimFile(headers: Record<string, string>, sandboxId = victim.sandboxId): Promise<{ status: number; text: string }> {
  const res = await fetch(`${hostd.url}/files?path=${encodeURIComponent("/root/secret.txt")}`, {
    headers: { "e2b-sandbox-id": sandboxId, "e2b-sandbox-port": "49983", ...headers },
  });
  return { status: res.status, text: await res.text() };
}

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: `${keyA}, ${keyB}`, PODFLARE_ADMIN_KEY: adminKey } });
  pointE2bAt(hostd.url, keyA);
  victim = await Sandbox.create();
  await victim.files.write("/root/secret.txt", SECRET);
  attacker = await Sandbox.create({ apiKey: keyB });
});

after(async () => {
  await Promise.allSettled([victim?.kill(), attacker?.kill()]);
  await hostd?.stop();
  teardownStateDir(stateDir);
});

test("a wrong or missing key gets E2B's 401 shape, and the SDK's AuthenticationError", async () => {
  await assert.rejects(Sandbox.create({ apiKey: "pf_not_a_key" }), AuthenticationError);
  await assert.rejects(Sandbox.list({ apiKey: "pf_not_a_key" }).nextItems(), AuthenticationError);
  const res = await fetch(`${hostd.url}/v2/sandboxes`, { headers: { "x-api-key": "pf_not_a_key" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { code: 401, message: "invalid api key" });
  const none = await fetch(`${hostd.url}/v2/sandboxes`);
  assert.equal(none.status, 401);
  assert.match(((await none.json()) as { message: string }).message, /X-API-KEY/);
});

test("the owner's access token reads the owner's file", async () => {
  assert.deepEqual(await readVictimFile({ "x-access-token": tokenOf(victim) }), { status: 200, text: SECRET });
});

test("another tenant's access token, made for its own sandbox, does not open this sandbox", async () => {
  const got = await readVictimFile({ "x-access-token": tokenOf(attacker) });
  assert.equal(got.status, 401, got.text);
  assert.doesNotMatch(got.text, /secret/);
  const viaTraffic = await readVictimFile({ "e2b-traffic-access-token": tokenOf(attacker) });
  assert.equal(viaTraffic.status, 401, viaTraffic.text);
});

test("another tenant's API key, no credentials, or a forged token do not reach the sandbox", async () => {
  const attempts: Record<string, string>[] = [
    { "x-api-key": keyB },
    { authorization: `Bearer ${keyB}` },
    {},
    { "x-access-token": "Zm9yZ2VkLXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tcGFyc2U" },
  ];
  for (const headers of attempts) {
    const got = await readVictimFile(headers);
    // 502: sandbox traffic for a sandbox this caller cannot see is E2B's edge's answer for one
    // that does not exist, the same for both (no oracle).
    assert.ok(got.status === 401 || got.status === 502, `${JSON.stringify(headers)} → ${got.status} ${got.text}`);
    assert.doesNotMatch(got.text, /secret/);
    // The same answer for an id that exists nowhere: the status says nothing about A's sandbox.
    const nowhere = await readVictimFile(headers, `sbx_${"0".repeat(32)}`);
    assert.equal(nowhere.status, got.status, `${JSON.stringify(headers)}: ${nowhere.text} vs ${got.text}`);
  }
  const exec = await fetch(`${hostd.url}/execute`, {
    method: "POST",
    headers: { "e2b-sandbox-id": victim.sandboxId, "e2b-sandbox-port": "49999", "x-access-token": tokenOf(attacker), "content-type": "application/json" },
    body: JSON.stringify({ code: "print(open('/root/secret.txt').read())" }),
  });
  assert.equal(exec.status, 401);
  assert.doesNotMatch(await exec.text(), /secret/);
});

test("the control plane is owner-scoped: tenant B can neither see, describe nor kill A's sandbox", async () => {
  await assert.rejects(Sandbox.getInfo(victim.sandboxId, { apiKey: keyB }), SandboxNotFoundError);
  assert.equal(await Sandbox.kill(victim.sandboxId, { apiKey: keyB }), false);
  const listed = await Sandbox.list({ apiKey: keyB }).nextItems();
  assert.deepEqual(listed.map((s) => s.sandboxId), [attacker.sandboxId]);
  assert.equal(await victim.files.read("/root/secret.txt"), SECRET, "A's sandbox is untouched");
});

/** 401 (not A's credentials) or A's sandbox answered as one that does not exist (no oracle). */
const refused = (status: number) => status === 401 || status === 404 || status === 503;

/** A raw Connect-RPC call to envd's services for tenant A's sandbox (unary JSON, or a stream). */
async function victimRpc(method: string, message: unknown, headers: Record<string, string>, stream = false): Promise<{ status: number; text: string }> {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(json.length, 1);
  const res = await fetch(`${hostd.url}/${method}`, {
    method: "POST",
    headers: {
      "e2b-sandbox-id": victim.sandboxId,
      "e2b-sandbox-port": "49983",
      "content-type": stream ? "application/connect+json" : "application/json",
      ...headers,
    },
    body: stream ? Buffer.concat([head, json]) : json,
  });
  return { status: res.status, text: await res.text() };
}

test("envd's Process and Filesystem calls with another tenant's credentials neither see nor touch A's sandbox", async () => {
  const running = await victim.commands.run("sleep 600", { background: true });
  try {
    const attempts: Record<string, string>[] = [{ "x-access-token": tokenOf(attacker) }, { "x-api-key": keyB }, {}];
    for (const headers of attempts) {
      const what = JSON.stringify(headers);
      const list = await victimRpc("process.Process/List", {}, headers);
      assert.ok(refused(list.status), `${what} List → ${list.status} ${list.text}`);
      assert.doesNotMatch(list.text, /sleep/);
      const kill = await victimRpc("process.Process/SendSignal", { process: { pid: running.pid }, signal: "SIGNAL_SIGKILL" }, headers);
      assert.ok(refused(kill.status), `${what} SendSignal → ${kill.status} ${kill.text}`);
      const dir = await victimRpc("filesystem.Filesystem/ListDir", { path: "/root" }, headers);
      assert.ok(refused(dir.status), `${what} ListDir → ${dir.status} ${dir.text}`);
      assert.doesNotMatch(dir.text, /secret\.txt/);
      const remove = await victimRpc("filesystem.Filesystem/Remove", { path: "/root/secret.txt" }, headers);
      assert.ok(refused(remove.status), `${what} Remove → ${remove.status} ${remove.text}`);
      // A stream answers its error inside the stream (or a 401 before it), never the file.
      const start = await victimRpc("process.Process/Start", { process: { cmd: "/bin/cat", args: ["/root/secret.txt"] } }, headers, true);
      assert.doesNotMatch(start.text, /secret|dGVuYW50IEEncyBzZWNyZXQ/, `${what} Start → ${start.status}`);
      assert.ok(start.status === 401 || /"code":"(unauthenticated|unavailable|not_found)"/.test(start.text), `${what} Start → ${start.status} ${start.text}`);
    }
    // A selector cannot climb out of the attacker's own sandbox into A's routes.
    const climb = await fetch(`${hostd.url}/process.Process/SendSignal`, {
      method: "POST",
      headers: { "e2b-sandbox-id": attacker.sandboxId, "e2b-sandbox-port": "49983", "x-access-token": tokenOf(attacker), "content-type": "application/json" },
      body: JSON.stringify({ process: { tag: `../../${victim.sandboxId}/processes/${running.pid}` }, signal: "SIGNAL_SIGKILL" }),
    });
    assert.ok(climb.status === 400 || climb.status === 404, `${climb.status} ${await climb.text()}`);
    assert.ok((await victim.commands.list()).some((p) => p.pid === running.pid), "A's process still runs");
    assert.equal(await victim.files.read("/root/secret.txt"), SECRET, "A's file is untouched");
  } finally {
    await running.kill();
  }
});

/** POST /execute (the code interpreter) for a sandbox, with the credentials an attacker chooses. */
async function execute(sandboxId: string, code: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${hostd.url}/execute`, {
    method: "POST",
    headers: { "e2b-sandbox-id": sandboxId, "e2b-sandbox-port": "49999", "content-type": "application/json", ...headers },
    body: JSON.stringify({ code }),
  });
  return { status: res.status, text: await res.text() };
}

// runCode and Sandbox.create reach the API in-process (api/local-api.ts), not over HTTP: that
// path must authenticate exactly as the REST routes do.
test("runCode and Sandbox.create in-process: no key, another tenant's key, or a revoked key's token run and make nothing", async () => {
  const steal = "open('/root/pwned', 'w').write('x'); print(open('/root/secret.txt').read())";
  const attempts: Record<string, string>[] = [{}, { "x-api-key": keyB }, { authorization: `Bearer ${keyB}` }, { "x-api-key": "pf_not_a_key" }];
  for (const headers of attempts) {
    const got = await execute(victim.sandboxId, steal, headers);
    assert.ok(got.status === 401 || got.status === 502, `${JSON.stringify(headers)} → ${got.status} ${got.text}`);
    assert.doesNotMatch(got.text, /secret/);
    // The same answer for an id that exists nowhere: the status says nothing about A's sandbox.
    const nowhere = await readVictimFile(headers, `sbx_${"0".repeat(32)}`);
    assert.equal(nowhere.status, got.status, `${JSON.stringify(headers)}: ${nowhere.text} vs ${got.text}`);
  }
  const none = await execute(victim.sandboxId, steal, {});
  assert.match(none.text, /X-API-KEY/, "a missing key is named the E2B way");
  assert.equal((await victim.commands.run("ls /root")).stdout.includes("pwned"), false, "nothing ran in A's sandbox");

  // A key that is revoked after its sandbox's token was issued: the token opens nothing more.
  const res = await fetch(`${hostd.url}/v1/keys`, { method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: "{}" });
  assert.equal(res.status, 200);
  const made = (await res.json()) as { key: string; id: string };
  const own = await Sandbox.create({ apiKey: made.key });
  assert.match((await execute(own.sandboxId, "print('ran')", { "x-access-token": tokenOf(own) })).text, /ran/, "the token works while its key lives");
  const revoked = await fetch(`${hostd.url}/v1/keys/${made.id}`, { method: "DELETE", headers: { authorization: `Bearer ${adminKey}` } });
  assert.equal(revoked.status, 204);
  const after = await execute(own.sandboxId, "print('ran')", { "x-access-token": tokenOf(own) });
  assert.equal(after.status, 401, after.text);
  assert.doesNotMatch(after.text, /ran/);
  await assert.rejects(Sandbox.create({ apiKey: made.key }), AuthenticationError);
});
