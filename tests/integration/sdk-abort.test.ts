// Aborting a TypeScript SDK exec (docs/sdk.md, `signal`): the call rejects with the abort, as
// fetch does (an AbortError, or the reason given), never with a ConnectionError that says hostd
// is not running; hostd interrupts the code and the REPL keeps its state.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, Sandbox } from "podflare";
import { hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";

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
