// fork children count against the owner's tier: a free key (10 sandboxes at once) cannot
// pass its cap by forking — against a hostd of this test's own, with keys.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("fork-tier", 21);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let hostd: TestHostd;
let freeKey: string;
const as = () => ({ authorization: `Bearer ${freeKey}` });

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  const r = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "keys", "create", "--tier", "free", "--name", "fork-tier"], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_STATE_DIR: stateDir },
  });
  assert.equal(r.status, 0, r.stderr);
  freeKey = r.stdout.trim();
  hostd = await startTestHostd({ stateDir, port });
});

after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as())).json()) as { sandboxes?: { id: string }[] };
  for (const s of list.sandboxes ?? []) await (await api("DELETE", `/v1/sandboxes/${s.id}`, undefined, hostd.url, as())).arrayBuffer();
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("a free key's fork stops at the tier's 10 sandboxes with a 429 naming the cap", async () => {
  const created = await api("POST", "/v1/sandboxes", {}, hostd.url, as());
  const { id } = (await created.json()) as { id: string };
  assert.equal(created.status, 200);
  const fork = (n: number) => api("POST", `/v1/sandboxes/${id}/fork`, { n }, hostd.url, as());
  const over = await fork(10);
  assert.equal(over.status, 429);
  const body = (await over.json()) as { code: string; error: string };
  assert.equal(body.code, "concurrency_limit");
  assert.match(body.error, /free tier's 10 sandboxes/);
  const ok = await fork(9);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal(((await ok.json()) as { children: string[] }).children.length, 9);
  assert.equal((await fork(1)).status, 429);
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, as())).json()) as { sandboxes: unknown[] };
  assert.equal(list.sandboxes.length, 10);
});
