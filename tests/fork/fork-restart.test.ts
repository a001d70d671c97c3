// A fork family survives a hostd restart: parent and children are re-adopted with their REPL
// state, fork works again afterwards, and the family's cgroup goes with its last member.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import Database from "better-sqlite3";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { eventually } from "../support/host.js";

const { stateDir, port } = ownHostd("fork-restart", 20);
let hostd: TestHostd;
const cgroups = new CgroupManager({ parent: cgroupParentFor(stateDir) });
const families = () => cgroups.listIds().filter((id) => id.startsWith("fam_"));

async function closeAll(): Promise<void> {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json().catch(() => ({ sandboxes: [] }))) as {
    sandboxes: { id: string }[];
  };
  for (const s of list.sandboxes ?? []) await closeSandbox(s.id, hostd.url);
}

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
  await closeAll(); // whatever an interrupted earlier run left in this state dir
});

after(async () => {
  await closeAll();
  await hostd.stop();
  teardownStateDir(stateDir);
});

async function fork(id: string, n: number): Promise<string[]> {
  const res = await api("POST", `/v1/sandboxes/${id}/fork`, { n }, hostd.url);
  const body = (await res.json()) as { children: string[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.children;
}

test("after a kill -9 of hostd and a restart, a fork family answers, forks again, and is cleaned up with its last member", async () => {
  const p = await createSandbox({}, hostd.url);
  await exec(p, "who = 'parent'", {}, hostd.url);
  const [a, b] = (await fork(p, 2)) as [string, string];
  await exec(a, "who = 'a'", {}, hostd.url);
  assert.equal(families().length, 1, `families: ${families().join(" ")}`);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  for (const [id, who] of [[p, "parent"], [a, "a"], [b, "parent"]] as const) {
    assert.equal((await exec(id, "print(who)", {}, hostd.url)).stdout, `${who}\n`);
  }
  const [g] = (await fork(a, 1)) as [string];
  assert.equal((await exec(g, "print(who)", {}, hostd.url)).stdout, "a\n");
  const merge = await api("POST", `/v1/sandboxes/${p}/merge_into/${b}`, undefined, hostd.url);
  assert.equal(merge.status, 204);
  // merge_into survives a restart too: the parent id keeps naming the winner's runtime.
  await exec(p, "who = 'merged'", {}, hostd.url);
  await hostd.stop("SIGTERM");
  hostd = await startTestHostd({ stateDir, port });
  assert.equal((await exec(p, "print(who)", {}, hostd.url)).stdout, "merged\n");
  assert.equal((await api("GET", `/v1/sandboxes/${b}`, undefined, hostd.url)).status, 404);
  assert.equal(families().length, 1);
  for (const id of [a, g]) await closeSandbox(id, hostd.url);
  assert.equal(families().length, 1, "the family went while a member was alive");
  assert.equal((await exec(p, "print('still')", {}, hostd.url)).stdout, "still\n");
  await closeSandbox(p, hostd.url);
  await eventually(() => families().length === 0, "the family cgroup outlived its last sandbox");
  await eventually(() => fs.readdirSync(`${stateDir}/pool/sandboxes`).length === 0, "a root outlived its sandbox");
});

test("a child forked before the parent was merged into cannot be merged after a restart either (it would undo that merge)", async () => {
  const p = await createSandbox({}, hostd.url);
  const [a, b] = (await fork(p, 2)) as [string, string];
  await exec(a, "kept = 'a'", {}, hostd.url);
  await exec(b, "kept = 'b'", {}, hostd.url);
  assert.equal((await api("POST", `/v1/sandboxes/${p}/merge_into/${a}`, undefined, hostd.url)).status, 204);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  const stale = await api("POST", `/v1/sandboxes/${p}/merge_into/${b}`, undefined, hostd.url);
  const text = await stale.text();
  assert.equal(stale.status, 409, `the stale child was merged: ${stale.status} ${text}`);
  const body = JSON.parse(text) as { code?: string; error?: string };
  assert.equal(body.code, "conflict");
  assert.match(body.error ?? "", /fork .* again/);
  assert.equal((await exec(p, "print(kept)", {}, hostd.url)).stdout, "a\n", "the first merge was undone");
  // A child forked after the restart still merges.
  const [c] = (await fork(p, 1)) as [string];
  await exec(c, "kept = 'c'", {}, hostd.url);
  assert.equal((await api("POST", `/v1/sandboxes/${p}/merge_into/${c}`, undefined, hostd.url)).status, 204);
  assert.equal((await exec(p, "print(kept)", {}, hostd.url)).stdout, "c\n");
  for (const id of [b, p]) await closeSandbox(id, hostd.url);
});

test("a family whose sandboxes all vanished while hostd was down is removed on start", async () => {
  const p = await createSandbox({}, hostd.url);
  await fork(p, 1);
  await hostd.stop("SIGKILL");
  // Their rows go (a whole store gone is refused at start: tests/storage/lost-store.test.ts).
  const db = new Database(`${stateDir}/podflare.db`);
  db.prepare("DELETE FROM sandboxes").run();
  db.close();
  hostd = await startTestHostd({ stateDir, port });
  assert.deepEqual(families(), [], "a family cgroup of forgotten sandboxes was left behind");
  assert.deepEqual(cgroups.listIds(), []);
});

test("a fork refused by the parent's kernel (depth limit) leaves no child behind and the parent as it was", async () => {
  const root = await createSandbox({}, hostd.url);
  await exec(root, "kept = 'yes'", {}, hostd.url);
  let cur = root;
  const chain: string[] = [];
  for (let gen = 1; ; gen++) {
    const before = { cgroups: cgroups.listIds(), roots: fs.readdirSync(`${stateDir}/pool/sandboxes`).sort(), run: fs.readdirSync(`${stateDir}/run`).sort() };
    const res = await api("POST", `/v1/sandboxes/${cur}/fork`, { n: 2 }, hostd.url);
    const body = (await res.json()) as { children?: string[]; code?: string };
    if (res.status === 200) {
      assert.ok(gen < 20, "no depth limit");
      chain.push(...body.children!);
      cur = body.children![0]!;
      continue;
    }
    // Refused after the snapshots, cgroups and inits of both children were made.
    assert.equal(res.status, 409, JSON.stringify(body));
    assert.deepEqual(cgroups.listIds(), before.cgroups, "cgroups left behind");
    assert.deepEqual(fs.readdirSync(`${stateDir}/pool/sandboxes`).sort(), before.roots, "roots left behind");
    assert.deepEqual(fs.readdirSync(`${stateDir}/run`).sort(), before.run, "run dirs left behind");
    break;
  }
  assert.equal((await exec(cur, "print(kept)", {}, hostd.url)).stdout, "yes\n");
  for (const id of [...chain].reverse()) await closeSandbox(id, hostd.url);
  await closeSandbox(root, hostd.url);
  await eventually(() => cgroups.listIds().length === 0, "cgroups left behind after the last close");
});
