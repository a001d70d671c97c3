// REPL contexts through a real hostd: separate namespaces, cwd, restart, delete, the cap,
// 404s that say what to do, copies in fork children; both SDKs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { NotFoundError, Sandbox } from "podflare";
import { api, exec, hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

const sandboxes: Sandbox[] = [];
after(async () => {
  await Promise.all(sandboxes.map((sb) => sb.close().catch(() => undefined)));
});

async function sandbox(): Promise<Sandbox> {
  const sb = await Sandbox.create({ host: hostdUrl() });
  sandboxes.push(sb);
  return sb;
}

test("two contexts do not share variables; the default context is the one exec uses without context_id", async () => {
  const sb = await sandbox();
  const a = await sb.createContext();
  const b = await sb.createContext({ cwd: "/tmp" });
  assert.match(a.id, /^ctx_[0-9a-f]{24}$/);
  assert.deepEqual([a.language, a.cwd, b.cwd], ["python", null, "/tmp"]);
  await sb.runCode("x = 'default'");
  await sb.runCode("x = 'a'", "python", { context: a });
  await sb.runCode("x = 'b'", "python", { context: b.id });
  assert.equal((await sb.runCode("print(x)", "python", { context: a })).stdout, "a\n");
  assert.equal((await sb.runCode("print(x)", "python", { context: b })).stdout, "b\n");
  assert.equal((await sb.runCode("print(x)")).stdout, "default\n");
  assert.equal((await sb.runCode("print(x)", "python", { context: "default" })).stdout, "default\n");
  // cwd: where the context's cells start (bash too); the default context is unmoved.
  assert.equal((await sb.runCode("import os; print(os.getcwd())", "python", { context: b })).stdout, "/tmp\n");
  assert.equal((await sb.runCode("pwd", "bash", { context: b })).stdout, "/tmp\n");
  assert.equal((await sb.runCode("import os; print(os.getcwd())")).stdout, "/root\n");
  // Rich results work in any context.
  assert.equal((await sb.runCode("x", "python", { context: a })).results[0]?.text, "'a'");
  const ids = (await sb.listContexts()).map((c) => c.id);
  assert.deepEqual(ids, ["default", a.id, b.id]);
});

test("restart clears one context only; delete then exec answers 404 not_found saying what to do", async () => {
  const sb = await sandbox();
  const a = await sb.createContext();
  const b = await sb.createContext();
  await sb.runCode("v = 1", "python", { context: a });
  await sb.runCode("v = 2", "python", { context: b });
  assert.deepEqual(await sb.restartContext(a), a);
  const gone = await sb.runCode("v", "python", { context: a });
  assert.equal(gone.error?.name, "NameError");
  assert.equal((await sb.runCode("print(v)", "python", { context: b })).stdout, "2\n");
  await sb.deleteContext(a);
  await assert.rejects(sb.runCode("1", "python", { context: a }), (e: Error) => {
    assert.ok(e instanceof NotFoundError, String(e));
    assert.match(e.message, new RegExp(`context ${a.id} not found.*GET /v1/sandboxes/${sb.id}/contexts`));
    return true;
  });
  const res = await api("POST", `/v1/sandboxes/${sb.id}/exec`, { code: "1", context_id: a.id });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, "not_found");
  for (const [method, path] of [
    ["POST", `/contexts/${a.id}/restart`],
    ["DELETE", `/contexts/${a.id}`],
    ["DELETE", "/contexts/not-an-id"],
  ] as const) {
    const r = await api(method, `/v1/sandboxes/${sb.id}${path}`);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(((await r.json()) as { code: string }).code, "not_found");
  }
  const d = await api("DELETE", `/v1/sandboxes/${sb.id}/contexts/default`);
  assert.equal(d.status, 400);
  const badCwd = await api("POST", `/v1/sandboxes/${sb.id}/contexts`, { cwd: "/no/such/dir" });
  assert.equal(badCwd.status, 400);
  assert.match(((await badCwd.json()) as { error: string }).error, /existing directory/);
  // A context is a Python REPL: another language is refused, not made into Python silently.
  const bash = await api("POST", `/v1/sandboxes/${sb.id}/contexts`, { language: "bash" });
  assert.equal(bash.status, 400);
  const refused = (await bash.json()) as { code: string; error: string };
  assert.equal(refused.code, "unknown_language");
  assert.match(refused.error, /a context is a Python REPL/);
});

test("at most 32 contexts per sandbox (the default included): then 429 context_limit", async () => {
  const sb = await sandbox();
  for (let i = 0; i < 31; i++) await sb.createContext();
  const r = await api("POST", `/v1/sandboxes/${sb.id}/contexts`, {});
  assert.equal(r.status, 429);
  const body = (await r.json()) as { code: string; error: string };
  assert.equal(body.code, "context_limit");
  assert.match(body.error, /32 contexts.*delete one/);
  assert.equal((await sb.listContexts()).length, 32);
});

test("contexts survive fork: children get copies; a child's changes stay in the child", async () => {
  const sb = await sandbox();
  const a = await sb.createContext({ cwd: "/tmp" });
  await sb.runCode("y = 'parent'", "python", { context: a });
  const [child] = await sb.fork(1);
  sandboxes.push(child!);
  assert.deepEqual((await child!.listContexts()).map((c) => [c.id, c.cwd]), [["default", null], [a.id, "/tmp"]]);
  assert.equal((await child!.runCode("print(y)", "python", { context: a })).stdout, "parent\n");
  await child!.runCode("y = 'child'", "python", { context: a });
  assert.equal((await sb.runCode("print(y)", "python", { context: a })).stdout, "parent\n");
  const r = await exec(child!.id, "print(y)", {});
  assert.match(r.stderr, /NameError/); // y lives in the context, not in the default namespace
});

test("py: create_context / list_contexts / restart_context / delete_context, run_code(context=)", () => {
  const script = `
from podflare import Sandbox, NotFoundError, ContextLimitError
with Sandbox() as sb:
    a = sb.create_context()
    b = sb.create_context(cwd="/tmp")
    assert (a.language, a.cwd, b.cwd) == ("python", None, "/tmp"), (a, b)
    sb.run_code("x = 1", context=a)
    sb.run_code("x = 2", context=b.id)
    assert sb.run_code("print(x)", context=a).stdout == "1\\n"
    assert sb.run_code("print(x)", context=b).stdout == "2\\n"
    assert sb.run_code("import os; print(os.getcwd())", context=b).stdout == "/tmp\\n"
    assert [c.id for c in sb.list_contexts()] == ["default", a.id, b.id]
    sb.restart_context(a)
    assert sb.run_code("x", context=a).error.name == "NameError"
    sb.delete_context(a)
    try:
        sb.run_code("1", context=a)
        raise SystemExit("no error")
    except NotFoundError as e:
        assert "not found" in str(e)
    for _ in range(30):
        sb.create_context()
    try:
        sb.create_context()
        raise SystemExit("no limit")
    except ContextLimitError as e:
        assert e.status == 429
print("ok")
`;
  const r = runPythonSdk(script, hostdUrl());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "ok\n");
});
