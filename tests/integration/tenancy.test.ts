// Tenancy (issue 5): keys from the key store, tiers with reported clamps, per-owner concurrency
// caps, disk caps, revocation, usage, and admin-only key management — against a hostd of this
// test's own.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("tenancy", 12);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const adminKey = "pf_admin_test_key_0123456789abcdefghij";
let hostd: TestHostd;
let freeKey: string;
let proKey: string;

function podflare(...args: string[]) {
  return spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_STATE_DIR: stateDir, PODFLARE_HOSTD_URL: hostd?.url ?? "" },
  });
}
const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function create(key: string, body: Record<string, unknown> = {}) {
  const res = await api("POST", "/v1/sandboxes", body, hostd.url, as(key));
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> & { id: string } };
}
const close = (key: string, id: string) => api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as(key)).then((r) => r.arrayBuffer());

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  // The first keys come from the CLI, straight into the store: no key is needed to make them.
  const free = podflare("keys", "create", "--tier", "free", "--name", "free-agent");
  const pro = podflare("keys", "create", "--tier", "pro", "--name", "pro-agent");
  assert.equal(free.status, 0, free.stderr);
  freeKey = free.stdout.trim();
  proKey = pro.stdout.trim();
  assert.match(freeKey, /^pf_live_[0-9A-Za-z]{40}$/);
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_ADMIN_KEY: adminKey } });
});

after(async () => {
  for (const key of [freeKey, proKey]) {
    const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as(key))).json()) as { sandboxes?: { id: string }[] };
    for (const s of list.sandboxes ?? []) await close(key, s.id);
  }
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("free tier: memory_mb 8192 runs with 1024 and the answer names the clamp", async () => {
  const r = await create(freeKey, { memory_mb: 8192 });
  assert.equal(r.status, 200);
  assert.equal((r.body.applied as { memory_mb: number }).memory_mb, 1024);
  assert.deepEqual(r.body.clamped, ["memory_mb"]);
  const limit = await api("POST", `/v1/sandboxes/${r.body.id}/exec`, { code: "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo none", language: "bash" }, hostd.url, as(freeKey));
  assert.equal(limit.status, 200);
  await limit.text();
  await close(freeKey, r.body.id);
  const pro = await create(proKey, { memory_mb: 4096 });
  assert.deepEqual(pro.body.clamped, []);
  await close(proKey, pro.body.id);
});

test("persistent Spaces are refused on free with a clear 403", async () => {
  const r = await create(freeKey, { persistent: true });
  assert.equal(r.status, 403);
  assert.match(String(r.body.error), /persistent.*free tier/);
});

test("the 11th concurrent free sandbox gets 429 with the cap and Retry-After; closing one frees the slot at once", async () => {
  const ids: string[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const r = await create(freeKey);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    const over = await create(freeKey);
    assert.equal(over.status, 429);
    assert.equal(over.body.code, "concurrency_limit");
    assert.match(String(over.body.error), /10/);
    assert.ok(Number(over.headers.get("retry-after")) >= 1);
    const other = await create(proKey);
    assert.equal(other.status, 200, "another owner is not limited by this one's cap");
    await close(proKey, other.body.id);
    await close(freeKey, ids.pop()!);
    const again = await create(freeKey);
    assert.equal(again.status, 200);
    ids.push(again.body.id);
  } finally {
    await Promise.all(ids.map((id) => close(freeKey, id)));
  }
});

test("a write past disk_mb fails inside the sandbox; the host disk is untouched", async () => {
  const r = await create(proKey, { disk_mb: 64 });
  const res = await api("POST", `/v1/sandboxes/${r.body.id}/exec`, { code: "dd if=/dev/zero of=/root/fill bs=1M count=200 2>&1 | grep -iE 'quota|space'; ls -l /root/fill | awk '{print $5}'", language: "bash" }, hostd.url, as(proKey));
  const text = await res.text();
  assert.match(text, /Disk quota exceeded|No space left on device/);
  const size = Number(/"data":"(\d+)\\n"/.exec(text.split("\n").filter((l) => /"stdout"/.test(l)).pop() ?? "")?.[1]);
  assert.ok(size <= 64 * 1024 * 1024 + 1024 * 1024, `wrote ${size} bytes past a 64 MB cap`);
  await close(proKey, r.body.id);
});

test("a revoked key answers 401 at once", async () => {
  const made = podflare("keys", "create", "--tier", "pro", "--name", "short-lived");
  const key = made.stdout.trim();
  assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, as(key))).status, 200);
  const id = /created (key_[0-9a-f]+)/.exec(made.stderr)?.[1];
  assert.ok(id);
  assert.equal(podflare("keys", "revoke", id).status, 0);
  const res = await api("GET", "/v1/sandboxes", undefined, hostd.url, as(key));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "invalid api key", code: "unauthorized" });
});

test("keys never appear in clear in the metadata store or hostd's log", async () => {
  const files = fs.readdirSync(stateDir).filter((f) => f.startsWith("podflare.db"));
  const stored = files.map((f) => fs.readFileSync(path.join(stateDir, f)).toString("latin1")).join("");
  for (const key of [freeKey, proKey]) {
    assert.ok(!stored.includes(key.slice(8)), "a key is stored in clear");
    assert.ok(!hostd.log().includes(key.slice(8)), "a key is in the log");
  }
});

test("admin endpoints: only the admin key may create, list and revoke keys", async () => {
  let res = await api("GET", "/v1/keys", undefined, hostd.url, as(proKey));
  assert.equal(res.status, 403);
  res = await api("POST", "/v1/keys", { name: "via-api", tier: "scale" }, hostd.url, as(adminKey));
  assert.equal(res.status, 200);
  const made = (await res.json()) as { key: string; id: string; tier: string };
  assert.match(made.key, /^pf_live_/);
  assert.equal(made.tier, "scale");
  const list = (await (await api("GET", "/v1/keys", undefined, hostd.url, as(adminKey))).json()) as { keys: { id: string; key?: string }[] };
  assert.ok(list.keys.some((k) => k.id === made.id));
  assert.ok(list.keys.every((k) => k.key === undefined), "listing shows no key");
  assert.equal((await api("DELETE", `/v1/keys/${made.id}`, undefined, hostd.url, as(adminKey))).status, 204);
  assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, as(made.key))).status, 401);
  res = await api("POST", "/v1/keys", { name: "x", tier: "platinum" }, hostd.url, as(adminKey));
  assert.equal(res.status, 400);
});

test("usage counts sandbox-seconds, GB-seconds and execs per key, and `podflare usage` prints it", async () => {
  const before = (await (await api("GET", "/v1/usage", undefined, hostd.url, as(proKey))).json()) as Record<string, number>;
  const r = await create(proKey, { memory_mb: 2048 });
  for (let i = 0; i < 3; i++) await (await api("POST", `/v1/sandboxes/${r.body.id}/exec`, { code: "1" }, hostd.url, as(proKey))).text();
  await new Promise((res) => setTimeout(res, 1100));
  await close(proKey, r.body.id);
  const after = (await (await api("GET", "/v1/usage", undefined, hostd.url, as(proKey))).json()) as Record<string, number>;
  assert.equal(after.execs! - before.execs!, 3);
  assert.equal(after.sandboxes_created! - before.sandboxes_created!, 1);
  assert.ok(after.sandbox_seconds! - before.sandbox_seconds! >= 1);
  assert.ok(after.gb_seconds! - before.gb_seconds! >= 2);
  const freeUsage = (await (await api("GET", "/v1/usage", undefined, hostd.url, as(freeKey))).json()) as Record<string, number>;
  assert.notEqual(freeUsage.execs, after.execs);
  const cli = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "usage"], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_HOSTD_URL: hostd.url, PODFLARE_API_KEY: proKey },
  });
  assert.match(cli.stdout, /^execs\s+\d+$/m);
});
