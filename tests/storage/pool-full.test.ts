// A full storage pool (all sandboxes' room, not one sandbox's disk_mb): an upload's 507 says the
// host's pool is full, not "create it with a larger disk_mb"; hostd logs a WARNING; creates and
// forks are refused with 507 until room is made, then work again. A hostd of its own with a
// 2 GB pool, filled by one sandbox.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, bash, closeSandbox, createSandbox } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("pool-full", 81);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_POOL_SIZE_GB: "2" } });
});

after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
});

async function upload(id: string, path: string, bytes: number): Promise<Response> {
  return fetch(`${hostd.url}/v1/sandboxes/${id}/files?path=${encodeURIComponent(path)}`, { method: "PUT", body: Buffer.alloc(bytes, 7) });
}

test("a full storage pool: 507 naming the host's pool (not disk_mb), a WARNING, creates and forks refused; room made → they work", async () => {
  const filler = await createSandbox({ disk_mb: 8192 }, hostd.url);
  const other = await createSandbox({ disk_mb: 8192 }, hostd.url);
  // Each fits its own disk_mb; together they are past the pool.
  const fill = await bash(filler, "dd if=/dev/zero of=/root/fill bs=1M 2>&1; sync", { timeout_ms: 300_000 }, hostd.url);
  assert.match(fill.stdout + fill.stderr, /No space left on device/, "the pool did not fill");

  const up = await upload(other, "/root/more.bin", 64 * 1024 * 1024);
  assert.equal(up.status, 507);
  const body = (await up.json()) as { code: string; error: string };
  assert.equal(body.code, "no_space");
  assert.match(body.error, /host's storage pool is full \(\d+ MB free of \d+ MB\), not this sandbox's disk_mb.*PODFLARE_POOL_SIZE_GB/);
  assert.doesNotMatch(body.error, /larger disk_mb/);
  assert.match(hostd.log(), /WARNING: the storage pool \S+ is full/);

  const create = await api("POST", "/v1/sandboxes", {}, hostd.url);
  assert.equal(create.status, 507, "a create in a full pool went through");
  assert.match(((await create.json()) as { error: string }).error, /^create refused: the host's storage pool is full/);
  const fork = await api("POST", `/v1/sandboxes/${other}/fork`, { n: 1 }, hostd.url);
  assert.equal(fork.status, 507, "a fork in a full pool went through");
  assert.match(((await fork.json()) as { error: string }).error, /^fork refused: the host's storage pool is full/);

  // Room made (btrfs frees the extents a moment after the unlink): creates work again.
  await bash(filler, "rm -f /root/fill; sync", {}, hostd.url);
  const made = await until(async () => {
    const r = await api("POST", "/v1/sandboxes", {}, hostd.url);
    return r.status === 200 ? ((await r.json()) as { id: string }).id : undefined;
  }, "creates did not work again once the pool had room", 60_000);
  assert.equal((await upload(made, "/root/small.bin", 1024 * 1024)).status, 204);
});
