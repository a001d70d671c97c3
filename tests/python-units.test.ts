// The Python parts' own unit tests (guest kernel, Python SDK), run by the host's python3 so
// that `npm test` counts them with everything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

for (const [name, dir] of [
  ["guest kernel", "packages/guest"],
  ["python SDK", "packages/sdk-python"],
] as const) {
  test(`${name}: python unittest suite passes`, () => {
    const r = spawnSync("/usr/bin/python3", ["-m", "unittest", "discover", "-s", "tests", "-v"], {
      cwd: path.join(root, dir),
      encoding: "utf8",
      timeout: 180_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    const summary = /^Ran (\d+) tests?/m.exec(r.stderr);
    assert.ok(summary && Number(summary[1]) > 0, `no python tests ran in ${dir}:\n${r.stderr.slice(-3000)}`);
    assert.equal(r.status, 0, `python tests failed in ${dir}:\n${r.stderr.slice(-6000)}`);
  });
}
