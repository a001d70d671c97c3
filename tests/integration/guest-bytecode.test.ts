// hostd compiles the guest kernel with each template's own Python at start (the guest dir is
// read-only inside sandboxes, so a kernel cannot cache its bytecode itself): a kernel start
// inside a sandbox loads the compiled files instead of compiling every module again.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, bash } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("a guest kernel starting in a sandbox uses the bytecode hostd compiled for the template's Python", async () => {
  const id = await pool.create();
  // python3 -v says "<pyc> matches <source>" for each module it loads from a valid cache file.
  const r = await bash(id, `cd /tmp && python3 -v -c "import sys; sys.path.insert(0, '/.podflare/guest'); import podflare_guest.main" 2>&1 | grep -c '__pycache__/.*cpython-.* matches /.podflare/guest/podflare_guest/'`);
  assert.equal(r.exitCode, 0, r.stderr);
  const modules = Number(r.stdout.trim());
  assert.ok(modules >= 10, `only ${modules} guest modules came from compiled files`);
  // The guest dir stays read-only: nothing a sandbox compiles can reach the others.
  const w = await bash(id, "touch /.podflare/guest/podflare_guest/__pycache__/x 2>&1; echo $?");
  assert.match(w.stdout, /Read-only file system/);
});
