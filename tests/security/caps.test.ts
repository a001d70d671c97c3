// Red team: racing a tier's concurrency cap (issue 13 item 2). The cap is checked and a slot
// reserved in one step, so parallel creates, forks and Space resumes with one key cannot
// overshoot it — against a hostd of this test's own, with a free key (10 sandboxes at once).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";

const { stateDir, port } = ownHostd("caps", 45);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const adminKey = "pf_admin_caps_test_key_0123456789abcdef";
let hostd: TestHostd;
let freeKey: string;
let proKey: string;
/** A free key of its own for the start-rate test: the cap tests use freeKey's starts. */
let rateKey: string;
/** And two for the output pace (exec, processes), which this hostd sets to 4 MiB a second (16 MiB at once). */
let outputKey: string;
let processKey: string;
/** Two keys of their own for CPU fairness: one with four sandboxes, one with one. */
let manyKey: string;
let oneKey: string;
const OUTPUT_MB_PER_S = 4;
const as = () => ({ authorization: `Bearer ${freeKey}` });

async function create(): Promise<{ status: number; body: { id?: string; code?: string; error?: string } }> {
  const res = await api("POST", "/v1/sandboxes", {}, hostd.url, as());
  return { status: res.status, body: (await res.json()) as { id?: string; code?: string } };
}
const listIds = async () =>
  ((await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as())).json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
const closeAll = async () => {
  for (const id of await listIds()) await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as())).arrayBuffer();
};

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  const key = (tier: string, name = `caps-${tier}`) => {
    const r = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "keys", "create", "--tier", tier, "--name", name], {
      encoding: "utf8",
      env: { ...process.env, PODFLARE_STATE_DIR: stateDir },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  freeKey = key("free");
  proKey = key("pro");
  rateKey = key("free", "caps-free-rate");
  outputKey = key("free", "caps-free-output");
  processKey = key("free", "caps-free-process");
  manyKey = key("pro", "caps-fair-many");
  oneKey = key("free", "caps-fair-one");
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_ADMIN_KEY: adminKey, PODFLARE_OUTPUT_MB_PER_S_PER_KEY: String(OUTPUT_MB_PER_S) } });
});

after(async () => {
  await closeAll();
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("30 parallel creates with a free key: exactly 10 succeed, the rest are 429 concurrency_limit; a close frees a slot", async () => {
  const results = await Promise.all(Array.from({ length: 30 }, () => create()));
  const ok = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status !== 200);
  assert.equal(ok.length, 10, `created ${ok.length} sandboxes with a free key`);
  for (const r of refused) {
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.equal(r.body.code, "concurrency_limit");
    assert.match(r.body.error!, /free tier runs at most 10 sandboxes/);
  }
  assert.equal((await listIds()).length, 10);
  // The refused creates gave their reservations back: one close makes room for exactly one.
  await (await api("DELETE", `/v1/sandboxes/${ok[0]!.body.id}`, undefined, hostd.url, as())).arrayBuffer();
  assert.equal((await create()).status, 200);
  assert.equal((await create()).status, 429);
  await closeAll();
});

test("parallel forks and creates that would overshoot the cap are refused whole, never in part", async () => {
  const a = (await create()).body.id!;
  const b = (await create()).body.id!;
  // 8 slots left: of these forks of 3 (from two parents) and creates, no mix may pass 10.
  const fork = (id: string) => api("POST", `/v1/sandboxes/${id}/fork`, { n: 3 }, hostd.url, as()).then(async (r) => ({ status: r.status, body: (await r.json()) as { children?: string[]; code?: string } }));
  const results = await Promise.all([fork(a), fork(b), create(), fork(a), fork(b), create(), create(), fork(a), fork(b)]);
  let made = 0;
  for (const r of results) {
    if (r.status === 200) made += "children" in r.body && r.body.children ? r.body.children.length : 1;
    else {
      assert.equal(r.status, 429, JSON.stringify(r.body));
      assert.equal(r.body.code, "concurrency_limit");
    }
  }
  for (const r of results) if (r.status === 200 && "children" in r.body && r.body.children) assert.equal(r.body.children.length, 3, "a fork made part of its children");
  const ids = await listIds();
  assert.equal(ids.length, 2 + made, "a refused fork or create left a sandbox behind");
  assert.ok(ids.length <= 10, `the free key runs ${ids.length} sandboxes`);
  // The count is right after closes: free exactly what is left, then one more is refused.
  const left = 10 - ids.length;
  for (let i = 0; i < left; i++) assert.equal((await create()).status, 200);
  assert.equal((await create()).status, 429);
  await closeAll();
  assert.equal((await create()).status, 200, "after closing everything a create is refused");
  await closeAll();
});

test("GET /v1/capacity: a tenant sees only its own sandboxes and cap; host figures and the pool only an admin", async () => {
  const capacity = async (key: string) => {
    const res = await api("GET", "/v1/capacity", undefined, hostd.url, { authorization: `Bearer ${key}` });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };
  const mine = [(await create()).body.id!, (await create()).body.id!];
  const pro = await api("POST", "/v1/sandboxes", {}, hostd.url, { authorization: `Bearer ${proKey}` });
  const proId = ((await pro.json()) as { id: string }).id;
  try {
    assert.deepEqual(await capacity(freeKey), { scope: "owner", tier: "free", sandboxes: 2, max_sandboxes: 10 });
    assert.deepEqual(await capacity(proKey), { scope: "owner", tier: "pro", sandboxes: 1, max_sandboxes: 50 });
    const host = await capacity(adminKey);
    assert.equal(host.scope, "host");
    assert.equal(host.sandboxes, 3);
    assert.equal(typeof host.max_sandboxes, "number");
    assert.ok(host.pool && typeof host.pool === "object", "an admin sees the warm pool's figures");
  } finally {
    for (const id of mine) await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as())).arrayBuffer();
    await (await api("DELETE", `/v1/sandboxes/${proId}`, undefined, hostd.url, { authorization: `Bearer ${proKey}` })).arrayBuffer();
  }
});

test("a free key starts at most 30 sandboxes at once, then 2 a second: 429 rate_limited with Retry-After; forks count each child; other keys go on", async () => {
  const by = (key: string) => ({ authorization: `Bearer ${key}` });
  const make = async (key = rateKey) => {
    const res = await api("POST", "/v1/sandboxes", {}, hostd.url, by(key));
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as { id?: string; code?: string; error?: string } };
  };
  const close = async (id: string, key = rateKey) => (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by(key))).arrayBuffer();
  const parent = await make();
  assert.equal(parent.status, 200, JSON.stringify(parent.body));
  // Create and close at once, so the concurrency cap (10) never refuses: only the rate can.
  const t0 = performance.now();
  let started = 1;
  let refused: Awaited<ReturnType<typeof make>> | undefined;
  while (started < 200) {
    const r = await make();
    if (r.status !== 200) {
      refused = r;
      break;
    }
    started++;
    await close(r.body.id!);
  }
  const elapsedS = (performance.now() - t0) / 1000;
  assert.ok(refused, `${started} creates in ${elapsedS.toFixed(1)} s with one free key, none refused`);
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "rate_limited");
  assert.match(refused.body.error!, /faster than the free tier allows \(2 a second, 30 at once after a quiet spell\); retry in 1 s/);
  assert.equal(refused.retryAfter, "1");
  assert.ok(started >= 30, `refused after ${started} starts: the burst is 30`);
  assert.ok(started <= 30 + 2 * elapsedS + 1, `${started} starts in ${elapsedS.toFixed(1)} s: more than 30 plus 2 a second`);
  // A fork of 3 needs 3 starts, all or none: refused whole, no child made.
  const fork = await api("POST", `/v1/sandboxes/${parent.body.id}/fork`, { n: 3 }, hostd.url, by(rateKey));
  const forkBody = (await fork.json()) as { code?: string };
  assert.equal(fork.status, 429, JSON.stringify(forkBody));
  assert.equal(forkBody.code, "rate_limited");
  const mine = ((await (await api("GET", "/v1/sandboxes", undefined, hostd.url, by(rateKey))).json()) as { sandboxes: { id: string }[] }).sandboxes;
  assert.deepEqual(mine.map((s) => s.id), [parent.body.id], "a refused fork left a child behind");
  // Another key's bucket is its own.
  const other = await make(proKey);
  assert.equal(other.status, 200, JSON.stringify(other.body));
  await close(other.body.id!, proKey);
  // The bucket refills: within a few seconds a create passes again.
  let last: Awaited<ReturnType<typeof make>> | undefined;
  const again = await until(async () => {
    last = await make();
    return last.status === 200 ? last : undefined;
  }, () => `no create passed within 5 s of the refusal: ${JSON.stringify(last?.body)}`, 5000);
  await close(again.body.id!);
  await close(parent.body.id!);
});

test("a key's exec output is relayed at its pace (here 4 MiB a second after 16 MiB at once), whole and in order", async () => {
  const MiB = 1024 * 1024;
  const printMiB = 28; // 16 at once, then 12 at 4 a second: at least 3 s
  const code = `import sys\nblock = "".join("%07d%s\\n" % (i, "x" * 1016) for i in range(1024))\nfor _ in range(${printMiB}):\n    sys.stdout.write(block)\n`;
  const run = async (headers: Record<string, string>, url: string, id: string) => {
    const t0 = performance.now();
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code }, url, headers);
    assert.equal(res.status, 200);
    let out = "";
    let exit: unknown;
    for (const line of (await res.text()).split("\n")) {
      if (!line) continue;
      const e = JSON.parse(line) as { type: string; data: unknown };
      if (e.type === "stdout") out += e.data as string;
      else if (e.type === "exit") exit = e.data;
    }
    return { s: (performance.now() - t0) / 1000, out, exit };
  };
  const block = Array.from({ length: 1024 }, (_, i) => `${String(i).padStart(7, "0")}${"x".repeat(1016)}\n`).join("");
  const by = { authorization: `Bearer ${outputKey}` };
  const made = await api("POST", "/v1/sandboxes", {}, hostd.url, by);
  const { id } = (await made.json()) as { id: string };
  try {
    const paced = await run(by, hostd.url, id);
    assert.equal(paced.exit, 0);
    assert.equal(paced.out.length, printMiB * MiB, "output was lost or added");
    assert.ok(paced.out === block.repeat(printMiB), "output came out of order or changed");
    const floorS = (printMiB - 4 * OUTPUT_MB_PER_S) / OUTPUT_MB_PER_S;
    assert.ok(paced.s >= floorS * 0.9, `${printMiB} MiB relayed in ${paced.s.toFixed(2)} s: faster than ${OUTPUT_MB_PER_S} MiB a second after the first 16`);
  } finally {
    await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by)).arrayBuffer();
  }
});

test("a process's output (a lossless stream) is paced the same way, every byte kept", async () => {
  const by = { authorization: `Bearer ${processKey}` };
  const made = await api("POST", "/v1/sandboxes", {}, hostd.url, by);
  const { id } = (await made.json()) as { id: string };
  const lines = 2_500_000; // seq 1..2.5M: 18.9 MB, 2.9 MiB past the 16 at once: at least 0.7 s
  try {
    const started = await api("POST", `/v1/sandboxes/${id}/processes`, { cmd: `seq 1 ${lines}`, lossless: true }, hostd.url, by);
    assert.equal(started.status, 200);
    const { pid } = (await started.json()) as { pid: number };
    const t0 = performance.now();
    const res = await api("GET", `/v1/sandboxes/${id}/processes/${pid}/stream?lossless=true`, undefined, hostd.url, by);
    assert.equal(res.status, 200);
    let out = "";
    for (const line of (await res.text()).split("\n")) {
      if (!line) continue;
      const e = JSON.parse(line) as { type: string; data?: string };
      if (e.type === "stdout") out += e.data;
    }
    const s = (performance.now() - t0) / 1000;
    assert.equal(out.length, Array.from({ length: lines }, (_, i) => String(i + 1).length + 1).reduce((a, b) => a + b, 0), "output was lost or added");
    assert.ok(out.startsWith("1\n2\n3\n") && out.endsWith(`${lines}\n`));
    const floorS = (out.length / (1024 * 1024) - 4 * OUTPUT_MB_PER_S) / OUTPUT_MB_PER_S;
    assert.ok(s >= floorS * 0.9, `${(out.length / 1e6).toFixed(1)} MB relayed in ${s.toFixed(2)} s: faster than the pace`);
  } finally {
    await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by)).arrayBuffer();
  }
});

test("CPU under contention is shared per key: a key's sandboxes together weigh what another key's one does, and regain it as they close", async () => {
  const cgroups = new CgroupManager({ parent: cgroupParentFor(stateDir) });
  const by = (key: string) => ({ authorization: `Bearer ${key}` });
  const make = async (key: string) => {
    const res = await api("POST", "/v1/sandboxes", {}, hostd.url, by(key));
    const body = (await res.json()) as { id?: string; error?: string };
    assert.equal(res.status, 200, body.error);
    return body.id!;
  };
  const many = [await make(manyKey), await make(manyKey), await make(manyKey), await make(manyKey)];
  const one = await make(oneKey);
  const weights = () => ({ many: many.map((id) => cgroups.cpuWeight(id)), one: cgroups.cpuWeight(one) });
  try {
    // Every sandbox's group weighed the same (100): four sandboxes got four times one's CPU.
    const w = await until(async () => {
      const now = weights();
      return now.many.every((x) => x === 2500) && now.one === 10_000 ? now : undefined;
    }, () => `weights ${JSON.stringify(weights())}`);
    assert.equal(w.many.reduce((a, b) => a + b, 0), w.one);
    for (const id of many.splice(1)) await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by(manyKey))).arrayBuffer();
    await until(async () => (cgroups.cpuWeight(many[0]!) === 10_000 ? true : undefined), () => `the last of the key's sandboxes weighs ${cgroups.cpuWeight(many[0]!)}`);
    assert.equal(cgroups.cpuWeight(one), 10_000, "the other key's sandbox was reweighed");
  } finally {
    for (const [key, ids] of [[manyKey, many], [oneKey, [one]]] as const) {
      for (const id of ids) await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by(key))).arrayBuffer();
    }
  }
});
