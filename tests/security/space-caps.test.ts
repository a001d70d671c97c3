// Red team: filling the host's disk with Spaces (issue 20 item 5). Each key may keep a tier's
// number of Spaces taking a tier's bytes together; a freeze past either is refused with a clear
// error and the sandbox keeps running. Against a hostd of this test's own with a pro key and the
// host's per-owner caps lowered (PODFLARE_SPACES_PER_OWNER=2, PODFLARE_SPACE_MB_PER_OWNER=48).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("space-caps", 46);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let hostd: TestHostd;
let key: string;
const as = () => ({ authorization: `Bearer ${key}` });
const call = async (method: string, p: string, body?: unknown) => {
  const res = await api(method, p, body, hostd.url, as());
  const text = await res.text();
  return { status: res.status, body: (text.startsWith("{") ? JSON.parse(text) : text) as Record<string, unknown> };
};
const create = async () => (await call("POST", "/v1/sandboxes", {})).body.id as string;
const bashIn = async (id: string, code: string) => {
  const r = await call("POST", `/v1/sandboxes/${id}/exec`, { code, language: "bash" });
  assert.equal(r.status, 200);
};

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  const r = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), "keys", "create", "--tier", "pro", "--name", "space-caps"], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_STATE_DIR: stateDir },
  });
  assert.equal(r.status, 0, r.stderr);
  key = r.stdout.trim();
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_SPACES_PER_OWNER: "2", PODFLARE_SPACE_MB_PER_OWNER: "48" } });
});

after(async () => {
  const { body } = await call("GET", "/v1/sandboxes");
  for (const s of (body.sandboxes as { id: string }[]) ?? []) await call("DELETE", `/v1/sandboxes/${s.id}`);
  const spaces = await call("GET", "/v1/spaces");
  for (const s of (spaces.body.spaces as { space_id: string }[]) ?? []) await call("DELETE", `/v1/spaces/${s.space_id}`);
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("a key's Spaces are capped by bytes (507 space_storage_limit) and by count (429 space_limit); a refused freeze leaves the sandbox running", async () => {
  const a = await create();
  await bashIn(a, "head -c 30M /dev/urandom > /root/big && sync");
  const first = await call("POST", `/v1/sandboxes/${a}/freeze`);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.ok((first.body.bytes as number) >= 30 * 1024 * 1024, `the Space counts ${first.body.bytes} bytes`);

  const b = await create();
  await bashIn(b, "head -c 30M /dev/urandom > /root/big && sync");
  // A REPL whose saved state is big: the refused freeze must not leave that file behind.
  assert.equal((await call("POST", `/v1/sandboxes/${b}/exec`, { code: "import os\nheld = os.urandom(8 << 20)" })).status, 200);
  const tooBig = await call("POST", `/v1/sandboxes/${b}/freeze`);
  assert.equal(tooBig.status, 507, JSON.stringify(tooBig.body));
  assert.equal(tooBig.body.code, "space_storage_limit");
  assert.match(tooBig.body.error as string, /pro tier's 48 MB; delete or resume some Spaces/);
  assert.equal((await call("GET", `/v1/sandboxes/${b}`)).status, 200, "a refused freeze closed the sandbox");
  const state = await call("GET", `/v1/sandboxes/${b}/fs/stat?path=/var/lib/podflare/space-state.pkl`);
  assert.equal(state.status, 404, `the refused freeze left the saved REPL state in the sandbox: ${JSON.stringify(state.body)}`);

  await bashIn(b, "rm /root/big && sync");
  assert.equal((await call("POST", `/v1/sandboxes/${b}/freeze`)).status, 200);

  const c = await create();
  const tooMany = await call("POST", `/v1/sandboxes/${c}/freeze`);
  assert.equal(tooMany.status, 429, JSON.stringify(tooMany.body));
  assert.equal(tooMany.body.code, "space_limit");
  assert.match(tooMany.body.error as string, /at most 2 Spaces per key and you have 2/);
  assert.equal((await call("GET", `/v1/sandboxes/${c}`)).status, 200);

  // Deleting a Space makes room again.
  assert.equal((await call("DELETE", `/v1/spaces/${first.body.space_id as string}`)).status, 204);
  assert.equal((await call("POST", `/v1/sandboxes/${c}/freeze`)).status, 200);
});
