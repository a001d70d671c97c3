// Aborting a TypeScript SDK exec (docs/sdk.md, `signal`): the call rejects with the abort, as
// fetch does (an AbortError, or the reason given), never with a ConnectionError that says hostd
// is not running; hostd interrupts the code and the REPL keeps its state.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, Sandbox } from "podflare";
import { hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { runPythonSdk } from "../support/python-sdk.js";

let sb: Sandbox;
before(async () => {
  sb = await Sandbox.create({ host: hostdUrl() });
});
after(() => sb.close());

const isAbort = (err: unknown): boolean => {
  assert.ok(!(err instanceof ConnectionError), `not the abort: ${(err as Error).message}`);
  assert.equal((err as Error).name, "AbortError", String(err));
  return true;
};

test("ts: runCode aborted before any output (no answer head yet) rejects with the AbortError", async () => {
  await sb.runCode("kept = 42");
  const ac = new AbortController();
  const call = sb.runCode("import time\ntime.sleep(30)", "python", { signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(call, isAbort);
  // Interrupted: the next call runs at once, with the state kept.
  await eventually(async () => (await sb.runCode("print(kept)")).stdout === "42\n", "the REPL answers with its state", 15_000);
});

test("ts: runCode aborted after its output began rejects with the AbortError; runCodeStream rejects with a reason given", async () => {
  const ac = new AbortController();
  const call = sb.runCode("import time\nprint('begun', flush=True)\nopen('/tmp/begun', 'w').close()\ntime.sleep(30)", "python", { signal: ac.signal });
  const rejected = assert.rejects(call, isAbort);
  await eventually(async () => (await sb.fs.stat("/tmp/begun").then(() => true, () => false)), "the cell printed and marked it", 15_000);
  ac.abort();
  await rejected;

  const ac2 = new AbortController();
  const reason = new Error("stop now");
  const events = sb.runCodeStream("import time\nprint('again', flush=True)\ntime.sleep(30)", "python", { signal: ac2.signal });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const ev of events) {
      if (ev.type === "stdout") {
        seen.push(ev.data);
        ac2.abort(reason);
      }
    }
  }, (err: unknown) => err === reason);
  assert.deepEqual(seen, ["again\n"]);
  await eventually(async () => (await sb.runCode("print(kept)")).stdout === "42\n", "the REPL answers with its state", 15_000);
});

test("python: leaving a `with run_code_stream(...)` block, or close(), stops the code even while the stream is still referenced", async () => {
  // A bare `break` with `stream = ...` kept the connection, so the next call waited for the
  // cell's own timeout (outside tester ts: 15 s; 240 s behind an unread flood).
  const script = `
import sys, time
from podflare import Sandbox
sb = Sandbox.connect(sys.argv[1])
sb.run_code("marker = 7")
cell = "import time\\nfor i in range(1000):\\n    print(i, flush=True)\\n    time.sleep(0.05)"
with sb.run_code_stream(cell, timeout_ms=120000) as stream:
    for ev in stream:
        if ev.type == "stdout":
            break
t = time.monotonic()
first = sb.run_code("print(marker)").stdout.strip()
took_with = time.monotonic() - t
stream = sb.run_code_stream(cell, timeout_ms=120000)
next(iter(stream))
stream.close()
t = time.monotonic()
second = sb.run_code("print(marker)").stdout.strip()
print(first, second, took_with < 20, time.monotonic() - t < 20)
`;
  const r = runPythonSdk(script, hostdUrl(), [sb.id]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "7 7 True True");
});
