// One process owns a state dir (DESIGN §11). Attack: start a second `podflare serve` on the
// same state dir (another port) while one runs. Without the lock it re-made the router's rule
// set (emptying the `bound` set of sandbox addresses) and every sandbox of the first lost its
// network. What holds: the second exits at once naming the first's pid, the first's sandboxes
// keep DNS and their router entries, and `podflare down` refuses while the first runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { closeSandbox, createSandbox, exec } from "../support/api.js";
import { ownHostd, runCli, serveExpectingRefusal, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { routerOf, sh } from "../network/support.js";

const { stateDir, port } = ownHostd("state-lock", 17);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

/** Elements of the router's `bound` set (interface . address of every sandbox link). */
function boundSet(): string {
  const router = routerOf(stateDir);
  return sh(["ip", "netns", "exec", router.netns, "nft", "list", "set", "inet", "podflare", "bound"]);
}

/** A second `podflare serve`, on the next port. */
function secondServe(env: NodeJS.ProcessEnv) {
  return serveExpectingRefusal(env, port + 1);
}

test("a second hostd on the same state dir exits naming the first's pid; the first's sandboxes keep their network", async () => {
  const id = await createSandbox({}, hostd.url);
  try {
    const dns = "import socket; print(socket.gethostbyname('pkgs.test'))";
    assert.equal((await exec(id, dns, {}, hostd.url)).stdout, "198.51.100.2\n");
    const boundBefore = boundSet();
    assert.match(boundBefore, /elements = /, "the sandbox's address is not in the router's bound set");

    const env: NodeJS.ProcessEnv = { ...process.env, PODFLARE_STATE_DIR: stateDir, PODFLARE_HOSTD_ADDR: `127.0.0.1:${port + 1}`, PODFLARE_TEMPLATES: "default", PODFLARE_POOL_SIZE: "0",
      PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates" };
    delete env.PODFLARE_API_KEYS;
    const second = await secondServe(env);
    assert.equal(second.serving, false, "a second hostd served on the same state dir");
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`in use by hostd \\(pid ${hostd.proc.pid}, listening on 127\\.0\\.0\\.1:${port}\\)`));

    assert.equal(boundSet(), boundBefore, "the router's bound set changed");
    assert.equal((await exec(id, dns, {}, hostd.url)).stdout, "198.51.100.2\n", "DNS from inside stopped answering");
  } finally {
    await closeSandbox(id, hostd.url);
  }
});

test("`podflare down` refuses while a hostd holds the state dir, and leaves its pool mounted", async () => {
  const r = runCli(["down", "--force"], stateDir);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`in use by hostd \\(pid ${hostd.proc.pid}`));
  const id = await createSandbox({}, hostd.url);
  assert.equal((await exec(id, "print(6*7)", {}, hostd.url)).stdout, "42\n");
  await closeSandbox(id, hostd.url);
});

test("deleting hostd.lock (it looks like a stale lock) lets neither a second hostd nor `podflare down --force` through", async () => {
  // The lock was on the file: with it deleted, a second serve touched the first's network and
  // `down --force` killed its sandboxes and unmounted its pool under it.
  const id = await createSandbox({}, hostd.url);
  try {
    fs.rmSync(path.join(stateDir, "hostd.lock"));
    const env: NodeJS.ProcessEnv = { ...process.env, PODFLARE_STATE_DIR: stateDir, PODFLARE_HOSTD_ADDR: `127.0.0.1:${port + 1}`, PODFLARE_TEMPLATES: "default", PODFLARE_POOL_SIZE: "0",
      PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates" };
    delete env.PODFLARE_API_KEYS;
    const second = await secondServe(env);
    assert.equal(second.serving, false, "a second hostd served on the same state dir");
    assert.match(second.stderr, /is in use by/);
    const down = runCli(["down", "--force"], stateDir);
    assert.notEqual(down.status, 0, down.stdout);
    assert.match(down.stderr, /is in use by/);
    assert.equal((await exec(id, "print(6*7)", {}, hostd.url)).stdout, "42\n");
  } finally {
    await closeSandbox(id, hostd.url);
  }
});
