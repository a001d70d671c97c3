// The unmodified `@e2b/code-interpreter` SDK against hostd: runCode streams our exec as the
// code interpreter's NDJSON. Rich results (DataFrame, PNG) and contexts need the rich-results
// and contexts REST surface (other branches of issue 16) and the python-datasci template.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox, TimeoutError } from "@e2b/code-interpreter";
import { api } from "../support/api.js";
import { Made, pointE2bAt } from "./support.js";

const made = new Made();
let sbx: Sandbox;

before(async () => {
  pointE2bAt();
  sbx = made.track(await Sandbox.create("base"));
});
after(() => made.killAll());

test("runCode keeps state across calls and returns stdout and stderr", async () => {
  const first = await sbx.runCode("x = 41\nprint('hello')");
  assert.equal(first.error, undefined);
  assert.deepEqual(first.logs.stdout, ["hello\n"]);
  const second = await sbx.runCode("import sys\nprint(x + 1)\nprint('to stderr', file=sys.stderr)");
  assert.deepEqual(second.logs, { stdout: ["42\n"], stderr: ["to stderr\n"] });
});

test("an exception comes back as execution.error with name, value and traceback; the REPL goes on", async () => {
  const ex = await sbx.runCode("def f():\n    return 1 / 0\nf()");
  assert.ok(ex.error, JSON.stringify(ex));
  assert.equal(ex.error.name, "ZeroDivisionError");
  assert.equal(ex.error.value, "division by zero");
  assert.match(ex.error.traceback, /Traceback[\s\S]*in f[\s\S]*ZeroDivisionError/);
  assert.deepEqual((await sbx.runCode("print(x)")).logs.stdout, ["41\n"]);
});

test("bash and env_vars reach our exec", async () => {
  const ex = await sbx.runCode("echo $GREETING from bash", { language: "bash", envs: { GREETING: "hi" } });
  assert.deepEqual(ex.logs.stdout, ["hi from bash\n"]);
  const failed = await sbx.runCode("exit 3", { language: "bash" });
  assert.equal(failed.error?.name, "CommandExitError");
  await assert.rejects(sbx.runCode("1", { language: "r" }), /400/);
});

test("output streams as produced: the first line arrives while the code still runs", async () => {
  const flag = "/root/e2b-go";
  let sawFirst = false;
  // The code prints, then waits (bounded) for a file that only the stdout callback creates.
  const code = `import os, time
print('first', flush=True)
deadline = time.time() + 60
while not os.path.exists(${JSON.stringify(flag)}) and time.time() < deadline:
    time.sleep(0.01)
print('second' if os.path.exists(${JSON.stringify(flag)}) else 'never released')`;
  const ex = await sbx.runCode(code, {
    onStdout: async (m) => {
      if (m.line === "first\n" && !sawFirst) {
        sawFirst = true;
        const put = await api("PUT", `/v1/sandboxes/${sbx.sandboxId}/files?path=${encodeURIComponent(flag)}`, "go");
        assert.equal(put.status, 204);
      }
    },
  });
  assert.deepEqual(ex.logs.stdout, ["first\n", "second\n"]);
});

test("code silent for longer than the SDK's request timeout still runs to its end (the head goes out after a second of silence)", async () => {
  // The SDK waits requestTimeoutMs for the answer's head, then timeoutMs for the whole run.
  const ex = await sbx.runCode("import time\ntime.sleep(2.5)\nprint(6*7)", { requestTimeoutMs: 1500, timeoutMs: 30_000 });
  assert.equal(ex.error, undefined);
  assert.deepEqual(ex.logs.stdout, ["42\n"]);
  // A refusal still comes back with its status when it is quick (here: no such context).
  await assert.rejects(sbx.runCode("1", { context: { id: "ctx_nope", language: "python", cwd: "/root" } }), /404|not found/i);
});

// Needs the rich-results branch (result events) and the python-datasci template.
test("the default template (code-interpreter-v1) gives a DataFrame as a result with HTML and a matplotlib figure as PNG", async () => {
  const ci = made.track(await Sandbox.create());
  const df = await ci.runCode("import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ndf");
  assert.equal(df.error, undefined, JSON.stringify(df.error));
  const main = df.results.find((r) => r.isMainResult);
  assert.ok(main, JSON.stringify(df));
  assert.match(main.html ?? "", /<table/);
  assert.match(main.text ?? "", /a\s*\n0\s+1\s*\n1\s+2/);
  const fig = await ci.runCode("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()");
  const png = fig.results.find((r) => r.png);
  assert.ok(png, JSON.stringify(fig).slice(0, 500));
  assert.equal(Buffer.from(png.png!, "base64").subarray(1, 4).toString(), "PNG");
});

// Needs the contexts branch (REST /v1/sandboxes/:id/contexts, exec context_id).
test("contexts: create, run in it apart from the default, list, restart, remove", async () => {
  const ctx = await sbx.createCodeContext({ language: "python" });
  assert.ok(ctx.id);
  await sbx.runCode("only_here = 1", { context: ctx });
  assert.deepEqual((await sbx.runCode("print(only_here)", { context: ctx })).logs.stdout, ["1\n"]);
  assert.equal((await sbx.runCode("only_here")).error?.name, "NameError");
  assert.ok((await sbx.listCodeContexts()).some((c) => c.id === ctx.id));
  await sbx.restartCodeContext(ctx);
  assert.equal((await sbx.runCode("only_here", { context: ctx })).error?.name, "NameError");
  await sbx.removeCodeContext(ctx);
  assert.ok(!(await sbx.listCodeContexts()).some((c) => c.id === ctx.id));
  // A context is a Python REPL here: a bash one is refused, with the reason in the SDK's error.
  await assert.rejects(sbx.createCodeContext({ language: "bash" }), (e: Error) => /400 bash contexts are not supported/.test(e.message));
  await assert.rejects(sbx.runCode("1", { language: "js" }), (e: Error) => /400 language "js" is not supported/.test(e.message));
});

test("IPython's line syntax, as the code interpreter README uses it: !cmd, %pip, %cd, %pwd; valid Python is never rewritten", async () => {
  const r = await sbx.runCode("!echo shell-$((6*7))\n%cd /tmp\n%pwd\n%pip --version\nvalue = 5\nvalue");
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const out = r.logs.stdout.join("");
  assert.match(out, /^shell-42\n\/tmp\n/, "%cd says where it went; %pwd before the last line shows nothing");
  assert.doesNotMatch(out, /\/tmp\n\/tmp\n/);
  const pwd = await sbx.runCode("%pwd");
  assert.deepEqual([pwd.text, pwd.logs.stdout], ["'/tmp'", []], "%pwd is the cell's value, as IPython's (it printed)");
  assert.match(out, /^pip \d+/m);
  assert.equal(r.text, "5");
  // A shell line as the last one shows no value (IPython's way), and `!=` is never a shell escape.
  assert.equal((await sbx.runCode("!true")).results.length, 0);
  assert.equal((await sbx.runCode("(1\n != 2)")).text, "True");
  const bad = await sbx.runCode("!echo fine\ndef broken(:");
  assert.equal(bad.error?.name, "SyntaxError");
  assert.deepEqual(bad.logs.stdout, [], "a cell that is not Python even with its ! lines runs nothing");
});

test("runCode starts in /home/user as E2B's Jupyter does; a cell's os.chdir lasts; bash and a new context start there too", async () => {
  const fresh = await Sandbox.create();
  try {
    await fresh.files.write("/home/user/data.csv", "x\n7\n");
    const first = await fresh.runCode("'os' in globals()");
    assert.equal(first.text, "False", "the move binds no name in the REPL");
    assert.equal(first.executionCount, 1, "cells are numbered as Jupyter's execution_count (it was undefined)");
    const read = await fresh.runCode("import os\nprint(os.getcwd())\nopen('data.csv').read().split()[1]");
    assert.equal(read.error, undefined, JSON.stringify(read.error));
    assert.deepEqual(read.logs.stdout, ["/home/user\n"]);
    assert.equal(read.text, "'7'");
    assert.equal(read.executionCount, 2);
    await fresh.runCode("os.chdir('/tmp')");
    assert.equal((await fresh.runCode("os.getcwd()")).text, "'/tmp'", "the cell's chdir lasts, as in Jupyter");
    assert.equal((await fresh.runCode("pwd", { language: "bash" })).logs.stdout.join(""), "/home/user\n");
    const ctx = await fresh.createCodeContext();
    assert.equal(ctx.cwd, "/home/user");
    const inCtx = await fresh.runCode("import os; os.getcwd()", { context: ctx });
    assert.equal(inCtx.text, "'/home/user'");
    assert.equal(inCtx.executionCount, 1, "a context numbers its own cells");
  } finally {
    await fresh.kill();
  }
});

test("runCode on a killed sandbox raises the SDK's sandbox-timeout error, as E2B's edge answers 502", async () => {
  const doomed = await Sandbox.create();
  await doomed.kill();
  await assert.rejects(doomed.runCode("1 + 1"), (e: Error) => e instanceof TimeoutError && /not found/.test(e.message));
});
