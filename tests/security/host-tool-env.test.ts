// Host tools run with a minimal environment; secrets never reach them (DESIGN §11). Attack: a
// hostd started with PODFLARE_API_KEYS and PODFLARE_ADMIN_KEY in its environment runs btrfs,
// mount, losetup, ip, nft, flock... A PATH shim in front of each records the environment it was
// started with, then execs the real tool. What holds: no shim saw a PODFLARE_* variable or a key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeSandbox, createSandbox } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("tool-env", 18);
const apiKey = "pf_test_tool_env_api_key_0123456789abcdef";
const adminKey = "pf_test_tool_env_admin_key_0123456789abcdef";
const tools = ["btrfs", "mkfs.btrfs", "mount", "umount", "losetup", "ip", "nft", "nsenter", "flock", "tar", "dpkg-query"];
const shims = fs.mkdtempSync(path.join(os.tmpdir(), "pf-tool-env-"));
const dumps = path.join(shims, "env");
let hostd: TestHostd;

before(async () => {
  fs.mkdirSync(dumps);
  for (const tool of tools) {
    const real = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8", env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" } }).stdout.trim();
    assert.ok(real.startsWith("/"), `${tool} is not installed`);
    fs.writeFileSync(path.join(shims, tool), `#!/bin/sh\nenv > ${dumps}/${tool}.$$\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  hostd = await startTestHostd({
    stateDir,
    port,
    env: { PODFLARE_API_KEYS: apiKey, PODFLARE_ADMIN_KEY: adminKey, PATH: `${shims}:${process.env.PATH ?? "/usr/bin:/bin"}` },
  });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
  fs.rmSync(shims, { recursive: true, force: true });
});

test("no host tool hostd runs gets PODFLARE_API_KEYS, PODFLARE_ADMIN_KEY or any PODFLARE_* variable", async () => {
  const as = { authorization: `Bearer ${apiKey}` };
  const id = await createSandbox({ disk_mb: 512 }, hostd.url, as);
  const res = await fetch(`${hostd.url}/v1/sandboxes/${id}/exec`, { method: "POST", headers: { ...as, "content-type": "application/json" }, body: JSON.stringify({ code: "print(1)" }) });
  assert.equal(res.status, 200);
  await res.text();
  await closeSandbox(id, hostd.url, as);

  const seen = fs.readdirSync(dumps);
  for (const f of seen) {
    const env = fs.readFileSync(path.join(dumps, f), "utf8");
    assert.doesNotMatch(env, /^PODFLARE_/m, `${f} got PODFLARE_* variables`);
    assert.ok(!env.includes(apiKey) && !env.includes(adminKey), `${f} got a key`);
  }
  // The shims saw storage, network and lock tools, so the check above covered each kind.
  const ran = new Set(seen.map((f) => f.split(".").slice(0, -1).join(".")));
  for (const tool of ["btrfs", "ip", "nft", "flock"]) assert.ok(ran.has(tool), `hostd never ran ${tool} through PATH (ran: ${[...ran].join(", ")})`);
});
