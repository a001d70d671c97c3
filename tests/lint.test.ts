// The linter is part of the suite: `npm test` fails on a lint error like on any other defect.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("eslint finds nothing", () => {
  const r = spawnSync("npx", ["eslint", "."], { cwd: root, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `eslint reported problems:\n${r.stdout}${r.stderr}`);
});
