// A full storage pool (all sandboxes' room, not one sandbox's disk_mb): an upload's 507 says the
// host's pool is full, not "create it with a larger disk_mb"; hostd logs a WARNING; creates and
// forks are refused with 507 until room is made, then work again. A hostd of its own with a
// 2 GB pool, filled by one sandbox.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";
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

test("a full storage pool: 507 naming the host's pool (not disk_mb), a WARNING, creates, forks and freezes refused, a persistent sandbox kept; room made → they work", async () => {
  const filler = await createSandbox({ disk_mb: 8192 }, hostd.url);
  const other = await createSandbox({ disk_mb: 8192 }, hostd.url);
  // Retired (frozen) by the reaper 10 s after its last call: once the pool is full.
  const kept = await createSandbox({ persistent: true, idle_timeout_s: 5 }, hostd.url);
  await exec(kept, "kept = 42", {}, hostd.url);
  // Each fits its own disk_mb; together they are past the pool.
  const fill = await bash(filler, "dd if=/dev/zero of=/root/fill bs=1M 2>&1; sync", { timeout_ms: 300_000 }, hostd.url);
  assert.match(fill.stdout + fill.stderr, /No space left on device/, "the pool did not fill");
  assert.equal((await exec(kept, "print(kept)", {}, hostd.url)).stdout, "42\n");

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

  const freeze = await api("POST", `/v1/sandboxes/${other}/freeze`, {}, hostd.url);
  assert.equal(freeze.status, 507, "a freeze in a full pool went through");
  assert.match(((await freeze.json()) as { error: string }).error, /host's storage pool is full/);

  // The reaper's freeze of a persistent sandbox fails on the full pool: the sandbox is kept
  // (paused), not closed with its files and REPL state.
  await until(async () => hostd.log().includes(`could not freeze ${kept} (idle): the host's storage pool is full; kept paused`), "the reaper did not try to freeze the persistent sandbox", 60_000);
  const held = await api("GET", `/v1/sandboxes/${kept}`, undefined, hostd.url);
  assert.equal(held.status, 200, "the persistent sandbox was closed");
  assert.equal(((await held.json()) as { state: string }).state, "paused");

  // Room made (btrfs frees the extents a moment after the unlink): creates work again.
  await bash(filler, "rm -f /root/fill; sync", {}, hostd.url);
  const made = await until(async () => {
    const r = await api("POST", "/v1/sandboxes", {}, hostd.url);
    return r.status === 200 ? ((await r.json()) as { id: string }).id : undefined;
  }, "creates did not work again once the pool had room", 60_000);
  assert.equal((await upload(made, "/root/small.bin", 1024 * 1024)).status, 204);
  // ...and the kept sandbox is frozen at the reaper's next try, with its state.
  const space = await until(async () => {
    const list = (await (await api("GET", "/v1/spaces", undefined, hostd.url)).json()) as { spaces: { space_id: string; source_id: string }[] };
    return list.spaces.find((sp) => sp.source_id === kept)?.space_id;
  }, "the kept sandbox was not frozen once the pool had room", 60_000);
  const resumed = await api("POST", `/v1/spaces/${space}/resume`, {}, hostd.url);
  assert.equal(resumed.status, 200, await resumed.clone().text());
  const back = (await resumed.json()) as { id: string };
  assert.equal((await exec(back.id, "print(kept)", {}, hostd.url)).stdout, "42\n");
});
