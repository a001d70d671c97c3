// A metadata store lost or rolled back while the pool keeps what it recorded (an outside
// tester, 2026-12-07): hostd's start deleted every Space with no row and killed every sandbox,
// and with the stored keys gone auth was off. Now a start with a missing or empty podflare.db
// and a pool that is not empty is refused; a Space root that lost its row to an older store is
// set aside, never deleted; a root a crash left half-made (marked pending) is still removed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { api, createSandbox, exec } from "../support/api.js";
import { ownHostd, serveExpectingRefusal, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("lost-store", 91);
const spaces = path.join(stateDir, "pool", "spaces");
const db = path.join(stateDir, "podflare.db");
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

async function freezeOne(marker: string): Promise<string> {
  const id = await createSandbox({}, hostd.url);
  await exec(id, `open('/root/marker', 'w').write(${JSON.stringify(marker)})`, {}, hostd.url);
  const res = await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url);
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { space_id: string }).space_id;
}

/** `podflare serve` on the state dir, which must not come up. */
function serveExpectingExit() {
  return serveExpectingRefusal({ PODFLARE_STATE_DIR: stateDir, PODFLARE_HOSTD_ADDR: `127.0.0.1:${port}`, PODFLARE_TEMPLATES: "default", PODFLARE_POOL_SIZE: "0" }, port);
}

const dbFiles = () => fs.readdirSync(stateDir).filter((f) => f.startsWith("podflare.db"));

test("a missing or empty podflare.db with Spaces in the pool: the start is refused and nothing is deleted; the restored store starts", async () => {
  const space = await freezeOne("kept");
  await hostd.stop();
  const saved = path.join(stateDir, "..", `podflare-lost-store-backup`);
  fs.rmSync(saved, { recursive: true, force: true });
  fs.mkdirSync(saved);
  for (const f of dbFiles()) fs.renameSync(path.join(stateDir, f), path.join(saved, f));
  try {
    for (const how of ["missing", "empty"]) {
      if (how === "empty") fs.writeFileSync(db, "");
      const r = await serveExpectingExit();
      assert.equal(r.serving, false, `hostd started with a ${how} store`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /podflare\.db is missing or empty, but the storage pool still holds 1 Space\(s\) and \d+ sandbox root\(s\)/);
      assert.match(r.stderr, /Restore podflare\.db/);
      assert.ok(fs.existsSync(path.join(spaces, space)), `the Space's root was deleted (${how} store)`);
      assert.deepEqual(dbFiles(), [], "the refused start left a store behind, which the next start would trust");
    }
  } finally {
    for (const f of fs.readdirSync(saved)) fs.renameSync(path.join(saved, f), path.join(stateDir, f));
    fs.rmSync(saved, { recursive: true, force: true });
  }
  hostd = await startTestHostd({ stateDir, port });
  const res = await api("POST", `/v1/spaces/${space}/resume`, {}, hostd.url);
  assert.equal(res.status, 200, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  assert.equal((await exec(id, "print(open('/root/marker').read())", {}, hostd.url)).stdout, "kept\n");
});

test("a Space without a row (an older podflare.db) is set aside with a warning; a half-made one (marked pending) is removed", async () => {
  const older = await freezeOne("older");
  await hostd.stop();
  const backup = fs.mkdtempSync(path.join(stateDir, "..", "podflare-lost-store-old-"));
  for (const f of dbFiles()) fs.copyFileSync(path.join(stateDir, f), path.join(backup, f));
  hostd = await startTestHostd({ stateDir, port });
  const newer = await freezeOne("newer");
  await hostd.stop();
  // The older copy comes back; and a root a crash left between its copy and its row.
  for (const f of dbFiles()) fs.rmSync(path.join(stateDir, f));
  for (const f of fs.readdirSync(backup)) fs.copyFileSync(path.join(backup, f), path.join(stateDir, f));
  fs.rmSync(backup, { recursive: true, force: true });
  const halfMade = `spc_${"ab".repeat(16)}`;
  assert.equal(spawnSync("btrfs", ["subvolume", "create", path.join(spaces, halfMade)]).status, 0);
  fs.writeFileSync(path.join(spaces, `.pending-${halfMade}`), "");
  hostd = await startTestHostd({ stateDir, port });
  assert.ok(fs.existsSync(path.join(stateDir, "pool", "spaces-lost", newer)), "the newer Space's root was not set aside");
  assert.equal(fs.existsSync(path.join(spaces, newer)), false);
  assert.match(hostd.log(), new RegExp(`WARNING: 1 Space root\\(s\\) have no row in the metadata store .*spaces-lost/${newer}`));
  assert.equal(fs.existsSync(path.join(spaces, halfMade)), false, "the half-made Space root was kept");
  assert.equal(fs.existsSync(path.join(spaces, `.pending-${halfMade}`)), false, "its mark was kept");
  const listed = (await (await api("GET", "/v1/spaces", undefined, hostd.url)).json()) as { spaces: { space_id: string }[] };
  assert.deepEqual(listed.spaces.map((s) => s.space_id), [older]);
  assert.equal(spawnSync("btrfs", ["subvolume", "delete", path.join(stateDir, "pool", "spaces-lost", newer)]).status, 0);
});
