// Each key's share of the storage pool (PODFLARE_OWNER_DISK_PERCENT): an outside tester filled a
// shared 8 GB pool from one key (16 GB disk_mb accepted), and every other tenant's writes failed.
// Now all roots of one owner count against one limit: a pooled sandbox it is handed, its fork
// children, its cold creates. Against a hostd of its own: a 2 GB pool, 30% per key, a warm pool.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("owner-disk", 82);
const keyA = "pf_live_ownerdiskA0123456789abcdefghijklmnop";
const keyB = "pf_live_ownerdiskB0123456789abcdefghijklmnop";
const adminKey = "pf_admin_ownerdisk_0123456789abcdefghij";
let hostd: TestHostd;
const made: [string, string][] = [];

before(async () => {
  hostd = await startTestHostd({
    stateDir,
    port,
    env: { PODFLARE_POOL_SIZE_GB: "2", PODFLARE_OWNER_DISK_PERCENT: "30", PODFLARE_POOL_SIZE: "1", PODFLARE_API_KEYS: `${keyA},${keyB}`, PODFLARE_ADMIN_KEY: adminKey },
  });
});

after(async () => {
  for (const [key, id] of made) await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as(key)).then((r) => r.arrayBuffer(), () => undefined);
  await hostd.stop();
  teardownStateDir(stateDir);
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function create(key: string, body: Record<string, unknown> = {}): Promise<Response> {
  const res = await api("POST", "/v1/sandboxes", body, hostd.url, as(key));
  if (res.status === 200) made.push([key, ((await res.clone().json()) as { id: string }).id]);
  return res;
}

async function bash(key: string, id: string, code: string): Promise<string> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, language: "bash", timeout_ms: 120_000 }, hostd.url, as(key));
  assert.equal(res.status, 200, `exec in ${id}: ${res.status}`);
  let out = "";
  for (const line of (await res.text()).split("\n").filter(Boolean)) {
    const e = JSON.parse(line) as { type: string; data?: unknown };
    if (e.type === "stdout" || e.type === "stderr") out += String(e.data);
  }
  return out;
}

/** MB written by dd before it stopped (it stops at count or at the first failed write). */
async function write(key: string, id: string, file: string, mb: number): Promise<{ mb: number; out: string }> {
  const out = await bash(key, id, `dd if=/dev/zero of=${file} bs=1M count=${mb} conv=fsync 2>&1; sync; stat -c %s ${file}`);
  return { mb: Math.floor(Number(out.trim().split("\n").pop()) / (1024 * 1024)), out };
}

async function poolStats(): Promise<{ free: number; hits: number }> {
  const res = await api("GET", "/v1/capacity", undefined, hostd.url, as(adminKey));
  return ((await res.json()) as { pool: { free: number; hits: number } }).pool;
}

test("one key's sandboxes together stop at its share of the pool; another key's still write; creates refused until it frees room", async () => {
  // A pooled sandbox handed to A counts against A's share.
  await until(async () => (await poolStats()).free >= 1, "the warm pool did not fill", 120_000);
  const hitsBefore = (await poolStats()).hits;
  const a1res = await create(keyA);
  assert.equal(a1res.status, 200);
  const a1 = ((await a1res.json()) as { id: string }).id;
  assert.equal((await poolStats()).hits, hitsBefore + 1, "A's sandbox was not a pool hit");

  // The share is 30% of the 2 GB pool, about 614 MB; each sandbox's own disk_mb is 4096.
  const first = await write(keyA, a1, "/root/first", 400);
  assert.equal(first.mb, 400, first.out);
  // A fork child of A counts too: together they stop near the share.
  const fork = await api("POST", `/v1/sandboxes/${a1}/fork`, { n: 1 }, hostd.url, as(keyA));
  assert.equal(fork.status, 200, await fork.clone().text());
  const a2 = ((await fork.json()) as { children: string[] }).children[0]!;
  made.push([keyA, a2]);
  const second = await write(keyA, a2, "/root/second", 1000);
  assert.match(second.out, /Disk quota exceeded/, `A's second sandbox was not stopped at A's share: ${second.out}`);
  assert.ok(second.mb >= 150 && second.mb <= 240, `A's sandboxes together wrote ${400 + second.mb} MB, not about 614 MB`);

  // B is not held by what A holds.
  const b1res = await create(keyB, { env: { COLD: "1" } });
  assert.equal(b1res.status, 200);
  const b1 = ((await b1res.json()) as { id: string }).id;
  const b = await write(keyB, b1, "/root/b", 300);
  assert.equal(b.mb, 300, `B could not write: ${b.out}`);

  // A's upload and create say what is full; B's create works.
  const up = await fetch(`${hostd.url}/v1/sandboxes/${a1}/files?path=/root/up.bin`, { method: "PUT", body: Buffer.alloc(32 * 1024 * 1024, 1), headers: as(keyA) });
  assert.equal(up.status, 507);
  assert.match(((await up.json()) as { error: string }).error, /this key's sandboxes together hold their share of the host's storage pool \(\d+ MB of \d+ MB: PODFLARE_OWNER_DISK_PERCENT=30/);
  const refused = await create(keyA);
  assert.equal(refused.status, 507);
  assert.match(((await refused.json()) as { error: string }).error, /^create refused: this key's sandboxes together hold their share/);
  assert.equal((await create(keyB)).status, 200);

  // A frees room: creates work again (once btrfs has released the extents). The fork child
  // shares /root/first with a1, so it goes too.
  assert.equal((await api("DELETE", `/v1/sandboxes/${a2}`, undefined, hostd.url, as(keyA))).status, 204);
  await bash(keyA, a1, "rm -f /root/first; sync");
  await until(async () => (await create(keyA)).status === 200, "A could not create again after freeing room", 60_000);
});
