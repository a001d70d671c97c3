import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnToolSync, toolEnv } from "./index.js";

test("a tool's environment is PATH, LANG and what the caller sets: never hostd's secrets", () => {
  process.env.PODFLARE_ADMIN_KEY = "pf_secret_admin";
  process.env.PODFLARE_API_KEYS = "pf_secret_a,pf_secret_b";
  process.env.http_proxy = "http://proxy.invalid:3128";
  try {
    const env = toolEnv("btrfs", { LC_ALL: "C" });
    assert.deepEqual(Object.keys(env).sort(), ["LANG", "LC_ALL", "PATH"]);
    assert.match(env.PATH!, /(^|:)\/usr\/sbin(:|$)/);
    // Only the downloaders get the proxy.
    assert.equal(toolEnv("/usr/bin/mmdebstrap").http_proxy, "http://proxy.invalid:3128");
    assert.equal(toolEnv("apt-get").http_proxy, "http://proxy.invalid:3128");
    assert.equal(toolEnv("ip").http_proxy, undefined);
    const r = spawnToolSync("env", []);
    assert.equal(r.status, 0);
    assert.doesNotMatch(r.stdout, /PODFLARE_|pf_secret/);
  } finally {
    delete process.env.PODFLARE_ADMIN_KEY;
    delete process.env.PODFLARE_API_KEYS;
    delete process.env.http_proxy;
  }
});
