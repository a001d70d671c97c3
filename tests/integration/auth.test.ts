// Bearer-key auth against a hostd of this test's own, started with PODFLARE_API_KEYS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("auth", 11);
const keyA = "pf_test_key_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const keyB = "pf_test_key_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
let hostd: TestHostd;
const as = (key: string) => ({ authorization: `Bearer ${key}` });

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: `${keyA}, ${keyB}` } });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("no key → 401 'missing Authorization: Bearer <key>'; a wrong key → 401 'invalid api key'", async () => {
  let res = await api("POST", "/v1/sandboxes", {}, hostd.url);
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "missing Authorization: Bearer <key>", code: "unauthorized" });
  res = await api("GET", "/v1/sandboxes", undefined, hostd.url, as("pf_wrong"));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "invalid api key", code: "unauthorized" });
});

test("healthz needs no key", async () => {
  assert.equal((await api("GET", "/v1/healthz", undefined, hostd.url)).status, 200);
});

test("a key sees only its own sandboxes; another key's id answers 404 on every route", async () => {
  const id = await createSandbox({}, hostd.url, as(keyA));
  try {
    assert.equal((await exec(id, "print(1)", {}, hostd.url).catch((e: Error) => e)) instanceof Error, true, "exec without a key must fail");
    const mine = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "print(1)" }, hostd.url, as(keyA));
    assert.equal(mine.status, 200);
    await mine.text();
    for (const [method, suffix, body] of [
      ["GET", "", undefined],
      ["POST", "/exec", { code: "print(1)" }],
      ["GET", "/files?path=/etc/hostname", undefined],
      ["PUT", "/files?path=/root/x", "x"],
      ["DELETE", "", undefined],
    ] as const) {
      const res = await api(method, `/v1/sandboxes/${id}${suffix}`, body, hostd.url, as(keyB));
      assert.equal(res.status, 404, `${method} ${suffix} by another key`);
      assert.equal(((await res.json()) as { code: string }).code, "sandbox_not_found");
    }
    const listB = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as(keyB))).json()) as { sandboxes: unknown[] };
    assert.deepEqual(listB.sandboxes, []);
    const listA = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as(keyA))).json()) as { sandboxes: { id: string }[] };
    assert.deepEqual(listA.sandboxes.map((s) => s.id), [id]);
  } finally {
    await closeSandbox(id, hostd.url, as(keyA));
  }
});

test("the API key never reaches a sandbox's environment", async () => {
  const id = await createSandbox({}, hostd.url, as(keyA));
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "env; cat /proc/1/environ | tr '\\0' '\\n'", language: "bash" }, hostd.url, as(keyA));
  const text = await res.text();
  assert.doesNotMatch(text, /pf_test_key|PODFLARE_API_KEYS/);
  await closeSandbox(id, hostd.url, as(keyA));
});

test("a non-loopback bind without keys refuses to start and says how to fix it", () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  // A state dir of its own: the running hostd holds this test's (one process owns a state dir).
  const wideDir = `${stateDir}-nokeys`;
  const env: NodeJS.ProcessEnv = { ...process.env, PODFLARE_HOSTD_ADDR: `0.0.0.0:${port + 1}`, PODFLARE_STATE_DIR: wideDir };
  delete env.PODFLARE_API_KEYS;
  delete env.PODFLARE_ADMIN_KEY;
  delete env.PODFLARE_AUTH_DISABLED;
  const r = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "serve"], { env, encoding: "utf8", timeout: 60_000 });
  fs.rmSync(wideDir, { recursive: true, force: true }); // it refused before storage: nothing is mounted
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without API keys: set PODFLARE_API_KEYS/);
});
