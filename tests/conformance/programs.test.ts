// Podflare's documented programs (tests/conformance/programs/{py,ts}/), each run unchanged
// through the Python SDK and the TypeScript SDK against a real hostd (PODFLARE_HOSTD_URL),
// as a user would run them: `python3 program.py` / `node program.js`. Each program asserts
// its own documented results. Network fetches are replaced by local files made here (a
// wheel, a CSV). region_host expects the hostd to serve region "us-west" (npm test sets
// PODFLARE_REGION so).

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertReachable, hostdUrl, repoRoot } from "./support.js";

const programs = join(repoRoot, "tests/conformance/programs");
const compiled = join(repoRoot, "tests/dist/conformance/programs/ts");
const names = readdirSync(join(programs, "py"))
  .filter((f) => f.endsWith(".py"))
  .map((f) => f.slice(0, -3))
  .sort();

let fixtures: string;
const fixtureEnv: Record<string, string> = {};

before(() => {
  fixtures = mkdtempSync(join(tmpdir(), "podflare-programs-"));
  const wheel = spawnSync("/usr/bin/python3", [join(programs, "make_wheel.py"), fixtures], { encoding: "utf8" });
  assert.equal(wheel.status, 0, `make_wheel.py failed: ${wheel.stderr}`);
  fixtureEnv["PODFLARE_TEST_WHEEL"] = wheel.stdout.trim();
  const csv = join(fixtures, "local.csv");
  writeFileSync(csv, "name,amount\na,10\nb,20\nc,30\n");
  fixtureEnv["PODFLARE_TEST_CSV"] = csv;
});

after(() => {
  if (fixtures) rmSync(fixtures, { recursive: true, force: true });
});

test("hostd is reachable at PODFLARE_HOSTD_URL", async () => {
  await assertReachable(hostdUrl());
});

test("every Python program has its TypeScript twin", () => {
  const ts = readdirSync(join(programs, "ts")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(ts, names);
});

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const env = {
    ...process.env,
    ...fixtureEnv,
    PODFLARE_HOSTD_URL: hostdUrl(),
    PYTHONPATH: join(repoRoot, "packages/sdk-python"),
    PYTHONUNBUFFERED: "1",
  };
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

for (const name of names) {
  test(`py program: ${name}`, { timeout: 180_000 }, async () => {
    const r = await run("/usr/bin/python3", [join(programs, "py", `${name}.py`)]);
    assert.equal(r.code, 0, `${name}.py exited ${r.code}:\n${r.output}`);
  });
  test(`ts program: ${name}`, { timeout: 180_000 }, async () => {
    const r = await run(process.execPath, [join(compiled, `${name}.js`)]);
    assert.equal(r.code, 0, `${name}.js exited ${r.code}:\n${r.output}`);
  });
}
