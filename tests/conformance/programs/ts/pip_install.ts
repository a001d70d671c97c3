// pip-shaped install, with the package index replaced by a local wheel (no network):
// PODFLARE_TEST_WHEEL names a wheel built by the test on this machine.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { Sandbox } from "podflare";

const wheel = process.env["PODFLARE_TEST_WHEEL"]!;
const name = basename(wheel);

const sb = await Sandbox.create();
try {
  await sb.upload(readFileSync(wheel), `/tmp/${name}`);
  const r = await sb.runCode(`pip install --no-index /tmp/${name}`, "bash");
  assert.equal(r.exitCode, 0, r.stderr);
  // Now use it:
  const out = (
    await sb.runCode(`
      import podflare_hello
      print(podflare_hello.greet("sandbox"))
    `)
  ).stdout;
  process.stdout.write(out);
  assert.equal(out, "hello, sandbox\n");
} finally {
  await sb.close();
}
