// Runs the conformance cases through the Python SDK (run_py.py) and asserts its exit.
// Like sdk-ts.test.ts it fails, not skips, when PODFLARE_HOSTD_URL is unset or unreachable.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./support.js";

test("py: conformance cases through the Python SDK", { timeout: 900_000 }, async () => {
  const script = join(repoRoot, "tests/conformance/run_py.py");
  const child = spawn("/usr/bin/python3", [script], {
    env: { ...process.env, PYTHONPATH: join(repoRoot, "packages/sdk-python"), PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, `run_py.py exited ${code}:\n${output}`);
});
