// The `podflare` command against the test hostd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSandbox, hostdUrl } from "../support/api.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const podflare = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_HOSTD_URL: hostdUrl() },
    timeout: 60_000,
  });

test("podflare ls, exec (python and --bash, exit code passed through), rm", () => {
  return (async () => {
    const id = await createSandbox();
    assert.match(podflare("ls").stdout, new RegExp(id));
    let r = podflare("exec", id, "x = 20; print(x * 2 + 2)");
    assert.equal(r.stdout, "42\n");
    assert.equal(r.status, 0);
    r = podflare("exec", id, "echo from bash; exit 3", "--bash");
    assert.equal(r.stdout, "from bash\n");
    assert.equal(r.status, 3);
    r = podflare("rm", id);
    assert.equal(r.status, 0);
    r = podflare("exec", id, "print(1)");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /404: sandbox .* not found/);
  })();
});

test("podflare template ls lists the default template as ready", () => {
  const r = podflare("template", "ls");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^default\s+yes\s+\d+ MB/m);
});

test("unknown command → usage and exit 2", () => {
  const r = podflare("frobnicate");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: podflare/);
});

test("podflare usage prints the caller's totals under the REST names; rm of an unknown id fails with the 404", () => {
  let r = podflare("usage");
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout.trimEnd().split("\n").map((line) => line.split(/\s+/)[0]);
  assert.deepEqual(names, ["owner", "sandboxes_created", "sandbox_seconds", "gb_seconds", "execs", "forks"]);
  assert.match(r.stdout, /^execs {14}\d+$/m);
  r = podflare("rm", "sbx_" + "0".repeat(32));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /404: sandbox .* not found/);
});
