// The filesystem API cannot reach host files: move, mkdir, list, stat, remove and watch through
// `..` and symlinks stay inside the sandbox's own root, with the files API's guarantees.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { SandboxPool, api, bash } from "../support/api.js";

const pool = new SandboxPool();
let id: string;
const hostDir = `/tmp/pf-h9-escape-${process.pid}`;
const F = (op: string) => `/v1/sandboxes/${id}/fs/${op}`;
const q = (p: string) => `?path=${encodeURIComponent(p)}`;

before(async () => {
  id = await pool.create();
  fs.mkdirSync(hostDir, { recursive: true });
  fs.writeFileSync(`${hostDir}/secret`, "host secret");
  await bash(id, "ln -s / /root/rootlink && ln -s /tmp /root/tmplink && echo mine > /root/mine");
});
after(async () => {
  await pool.closeAll();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

test("host paths, `..` and symlinks to / resolve inside the sandbox: a host file is never seen", async () => {
  for (const p of [`${hostDir}/secret`, `/../../..${hostDir}/secret`, `/root/rootlink${hostDir}/secret`, `/root/../../..${hostDir}`]) {
    assert.equal((await api("GET", F("stat") + q(p))).status, 404, p);
  }
  assert.equal((await api("GET", F("list") + q(`/root/rootlink${hostDir}`))).status, 404);
  assert.equal((await api("GET", F("watch") + q(`/root/rootlink${hostDir}`))).status, 404);
});

test("move through `..` and a symlink lands inside the sandbox, never on the host", async () => {
  const name = `escaped-${process.pid}`;
  let res = await api("POST", F("move"), { path: "/root/mine", to: `/../../../../tmp/${name}` });
  assert.equal(res.status, 200, await res.text());
  res = await api("POST", F("move"), { path: `/tmp/${name}`, to: `/root/tmplink/${name}-2` });
  assert.equal(res.status, 200);
  assert.equal(fs.existsSync(`/tmp/${name}`) || fs.existsSync(`/tmp/${name}-2`), false, "a file appeared on the host");
  assert.equal((await bash(id, `cat /tmp/${name}-2`)).stdout, "mine\n");
  // A move of a host path is a missing file, not the host's file.
  res = await api("POST", F("move"), { path: `/root/rootlink${hostDir}/secret`, to: "/root/stolen" });
  assert.equal(res.status, 404);
  assert.equal(fs.readFileSync(`${hostDir}/secret`, "utf8"), "host secret");
});

test("mkdir through a symlink and remove of a symlink stay inside; remove never follows the link", async () => {
  let res = await api("POST", F("mkdir"), { path: `/root/rootlink${hostDir}/made`, parents: true });
  assert.equal(res.status, 200);
  assert.equal(fs.existsSync(`${hostDir}/made`), false, "mkdir reached the host");
  assert.equal((await bash(id, `test -d ${hostDir}/made && echo inside`)).stdout, "inside\n");
  // Removing a symlink to / (even recursively) removes the link, not what it points to.
  res = await api("POST", F("remove"), { path: "/root/rootlink", recursive: true });
  assert.equal(res.status, 204);
  assert.equal((await bash(id, "test -e /root/rootlink || echo gone; test -d /etc && echo etc-kept")).stdout, "gone\netc-kept\n");
  assert.equal(fs.readFileSync(`${hostDir}/secret`, "utf8"), "host secret");
});
