// A misspelled option is an error in both SDKs, never a call run with the default (docs/sdk.md):
// the TypeScript SDK throws a TypeError naming it and the option meant, before any request, as
// Python does for an unknown keyword argument.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "podflare";
import { api, hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

let sb: Sandbox;
before(async () => {
  sb = await Sandbox.create({ host: hostdUrl() });
});
after(() => sb.close());

const count = async () => ((await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: unknown[] }).sandboxes.length;

/** The call's TypeError: names the option, and the one meant when there is one. */
async function refused(call: () => Promise<unknown>, option: string, meant?: string): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.ok(err instanceof TypeError, `${err.name}: ${err.message}`);
    assert.match(err.message, new RegExp(`unknown option "${option}"`));
    if (meant) assert.match(err.message, new RegExp(`did you mean ${meant}\\?`));
    return true;
  });
}

test("ts: misspelled options of create, connect, runCode, runCodeStream, processes.start and the PTY throw TypeError before any request", async () => {
  const before = await count();
  await refused(() => Sandbox.create({ host: hostdUrl(), memmoryMb: 512 } as never), "memmoryMb", "memoryMb");
  await refused(() => Sandbox.create({ host: hostdUrl(), idle_timeout_s: 5 } as never), "idle_timeout_s");
  assert.equal(await count(), before, "a sandbox was made with the default instead");
  await refused(() => Sandbox.connect(sb.id, { host: hostdUrl(), apikey: "k" } as never), "apikey", "apiKey");
  const started = Date.now();
  await refused(() => sb.runCode("import time; time.sleep(2)", "python", { timeout: 100 } as never), "timeout", "timeoutMs");
  assert.ok(Date.now() - started < 1500, "the code ran before the error");
  await refused(async () => {
    for await (const _ of sb.runCodeStream("print(1)", "python", { onresult: () => undefined } as never)) void _;
  }, "onresult", "onResult");
  await refused(() => sb.processes.start("true", { argv: [] } as never), "argv", "args");
  await refused(() => sb.pty.open({ colums: 80 } as never), "colums", "cols");
  await refused(() => sb.pty.create({ on_data: () => undefined } as never), "on_data", "onData");
  // The right names still work.
  assert.equal((await sb.runCode("print(6 * 7)", "python", { timeoutMs: 10_000 })).stdout, "42\n");
  // The hosted docs' spelling of the idle timeout is taken too; two different values are not.
  const spelled = await Sandbox.create({ host: hostdUrl(), idleTimeoutSeconds: 120 });
  try {
    assert.equal(spelled.applied?.idleTimeoutS, 120);
  } finally {
    await spelled.close();
  }
  await assert.rejects(() => Sandbox.create({ host: hostdUrl(), idleTimeoutS: 60, idleTimeoutSeconds: 120 }), /same option/);
});

test("python: the same misspellings raise TypeError", () => {
  const r = runPythonSdk(
    `
from podflare import Sandbox
for make in (lambda: Sandbox(memmory_mb=512), lambda: Sandbox.connect("${sb.id}", apikey="k")):
    try:
        make()
        raise AssertionError("no error")
    except TypeError:
        pass
s = Sandbox.connect("${sb.id}")
try:
    s.run_code("print(1)", timeout=100)
    raise AssertionError("no error")
except TypeError:
    print("py-ok")
`,
    hostdUrl(),
  );
  assert.equal(r.stdout.trim(), "py-ok", r.stderr);
});

test("a 404 that names what is missing (a deleted context) carries no \"endpoint may not exist\" hint, in either SDK", async () => {
  const ctx = await sb.createContext();
  await sb.deleteContext(ctx);
  await assert.rejects(sb.runCode("1", "python", { context: ctx }), (err: Error) => {
    assert.match(err.message, new RegExp(ctx.id));
    assert.doesNotMatch(err.message, /may not provide this endpoint/);
    return true;
  });
  const r = runPythonSdk(
    `
from podflare import Sandbox
s = Sandbox.connect("${sb.id}")
ctx = s.create_context()
s.delete_context(ctx)
try:
    s.run_code("1", context=ctx)
    raise AssertionError("no error")
except Exception as err:
    assert ctx.id in str(err), err
    assert "may not provide this endpoint" not in str(err), err
    print("py-ok")
`,
    hostdUrl(),
  );
  assert.equal(r.stdout.trim(), "py-ok", r.stderr);
});
