// The linters are part of the suite: `npm test` fails on a lint error like on any other defect.
// TypeScript through eslint, Python through flake8 (settings in .flake8 at the root).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("eslint finds nothing", () => {
  const r = spawnSync("npx", ["eslint", "."], { cwd: root, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `eslint reported problems:\n${r.stdout}${r.stderr}`);
});

// Python we ship (guest kernel, jail, Python SDK) and run (scripts, benchmarks, test helpers).
const pythonPaths = ["packages/guest", "packages/hostd/jail", "packages/sdk-python", "bench", "tests"];


test("flake8 finds nothing in the Python", () => {
  const scripts = fs.readdirSync(path.join(root, "scripts")).filter((f) => f.endsWith(".py")).map((f) => `scripts/${f}`);
  const r = spawnSync("flake8", [...pythonPaths, ...scripts], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.error) assert.fail(`cannot run flake8 (${r.error.message}): install it with \`apt-get install -y flake8\` (scripts/setup-host.sh does)`);
  assert.equal(r.status, 0, `flake8 reported problems:\n${r.stdout}${r.stderr}`);
});
