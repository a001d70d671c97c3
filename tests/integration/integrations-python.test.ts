// The Python SDK's model-provider adapters against the real hostd, fed real-shaped provider
// objects (no model API is called, and the frameworks are not installed here): an Anthropic
// tool_use block as a dict and as an SDK-like object, a Gemini function_call, and the sandbox an
// adapter creates for itself. The frameworks' absence is itself checked: each adapter names the
// pip package to install.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

function py(lines: string[]): unknown {
  const r = runPythonSdk(lines.join("\n"), hostdUrl());
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("py anthropic: handle_code_execution_tool_use answers the documented tool_result for a dict and for an SDK object; state carries over", () => {
  const out = py([
    "import json",
    "from types import SimpleNamespace",
    "from podflare import Sandbox",
    "from podflare.integrations.anthropic import handle_code_execution_tool_use",
    "from podflare.anthropic import handle_code_execution_tool_use as short_name",
    "with Sandbox() as sbx:",
    "    a = handle_code_execution_tool_use({'type': 'tool_use', 'id': 'toolu_1', 'name': 'code_execution',",
    "                                        'input': {'code': 'x = 41\\nprint(x + 1)'}}, sbx)",
    "    block = SimpleNamespace(type='tool_use', id='toolu_2', name='code_execution', input={'code': '1/0'})",
    "    b = short_name(block, sbx)",
    "    c = handle_code_execution_tool_use({'type': 'tool_use', 'id': 'toolu_3', 'name': 'code_execution',",
    "                                        'input': {'code': 'echo $((x))', 'language': 'bash'}}, sbx)",
    "    d = handle_code_execution_tool_use({'type': 'tool_use', 'id': 'toolu_4', 'name': 'code_execution',",
    "                                        'input': {'code': 'print(x)'}}, sbx)",
    "print(json.dumps([a, b, c, d]))",
  ]) as { type: string; tool_use_id: string; content: { type: string; text: string }[]; is_error: boolean }[];
  const [a, b, c, d] = out;
  assert.deepEqual(a, {
    type: "tool_result",
    tool_use_id: "toolu_1",
    content: [{ type: "text", text: "stdout:\n42\n\nstderr:\n\nexit_code: 0" }],
    is_error: false,
  });
  assert.equal(b?.tool_use_id, "toolu_2");
  assert.equal(b?.is_error, true);
  assert.match(b?.content[0]?.text ?? "", /ZeroDivisionError[\s\S]*exit_code: 1$/);
  assert.match(c?.content[0]?.text ?? "", /^stdout:\n0\n/, "bash is a fresh shell: $x is unset there");
  assert.equal(d?.content[0]?.text, "stdout:\n41\n\nstderr:\n\nexit_code: 0");
});

test("py gemini: run_function_call runs a google-genai-shaped function_call; the declaration is plain data", () => {
  const out = py([
    "import json",
    "from types import SimpleNamespace",
    "from podflare import Sandbox",
    "from podflare.gemini import podflare_function_declaration, run_function_call",
    "decl = podflare_function_declaration()",
    "with Sandbox() as sbx:",
    "    call = SimpleNamespace(id='fc_1', name='run_code', args={'code': 'print(sum(range(10)))'})",
    "    r1 = run_function_call(call, sbx)",
    "    r2 = run_function_call({'name': 'run_code', 'args': {'code': 'echo err >&2; exit 4', 'language': 'bash'}}, sbx)",
    "print(json.dumps([decl['name'], decl['parameters']['required'], r1, r2]))",
  ]);
  assert.deepEqual(out, ["run_code", ["code"], { stdout: "45\n", stderr: "", exit_code: 0 }, { stdout: "", stderr: "err\n", exit_code: 4 }]);
});

test("py: an adapter without a given sandbox creates one on first use, reuses it, and close() destroys it", () => {
  const out = py([
    "import json",
    "from podflare import Sandbox",
    "from podflare.integrations._run_code import SandboxSource, run_tool_call",
    "src = SandboxSource()",
    "first = run_tool_call(src.get(), '{\"code\": \"z = 7\"}')",
    "second = run_tool_call(src.get(), {'code': 'print(z * 6)'})",
    "sid = src.get().id",
    "alive = sid in [s['id'] for s in Sandbox.list_sandboxes()]",
    "src.close()",
    "gone = sid not in [s['id'] for s in Sandbox.list_sandboxes()]",
    "print(json.dumps([first.is_error, second.text, alive, gone]))",
  ]);
  assert.deepEqual(out, [false, "stdout:\n42\n\nstderr:\n\nexit_code: 0", true, true]);
});

test("py: without their frameworks, the LangChain and OpenAI Agents adapters raise ImportError naming the pip package", () => {
  const out = py([
    "import json",
    "import podflare.openai_agents as oa",
    "msgs = []",
    "try:",
    "    oa.podflare_code_interpreter()",
    "except ImportError as e:",
    "    msgs.append(str(e))",
    "try:",
    "    from podflare.langchain import PodflareTool  # noqa: F401",
    "except ImportError as e:",
    "    msgs.append(str(e))",
    "print(json.dumps(msgs))",
  ]);
  assert.deepEqual(out, [
    "podflare.integrations.openai_agents needs the OpenAI Agents SDK: pip install openai-agents",
    "podflare.langchain needs LangChain: pip install langchain-core",
  ]);
});
