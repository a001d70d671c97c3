// The TypeScript model-provider adapters (podflare/anthropic, /gemini, /ai-sdk, /openai-agents,
// /langchain) against the real hostd. The AI SDK and the OpenAI Agents SDK are the real packages,
// driven by scripted models (no model API is called): their own tool loop calls our tool, runs
// the code in a real sandbox and hands the model the answer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Agent, run, setTracingDisabled, Usage, type Model, type ModelRequest, type ModelResponse } from "@openai/agents";
import { generateText, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { Sandbox } from "podflare";
import { handleCodeExecutionToolUse, codeExecutionTool } from "podflare/anthropic";
import { podflareRunCode } from "podflare/ai-sdk";
import { podflareGeminiTool, runFunctionCall } from "podflare/gemini";
import { podflareCodeInterpreter } from "podflare/openai-agents";
import { hostdUrl } from "../support/api.js";

setTracingDisabled(true);
const opened: Sandbox[] = [];
async function sandbox(): Promise<Sandbox> {
  const sb = await Sandbox.create({ host: hostdUrl() });
  opened.push(sb);
  return sb;
}
after(async () => {
  await Promise.all(opened.map((sb) => sb.close()));
});

test("anthropic: a Claude-shaped tool_use block runs in the sandbox and answers the documented tool_result; REPL state carries over", async () => {
  const sb = await sandbox();
  const block = { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "code_execution", input: { code: "x = 41\nprint(x + 1)" } };
  assert.deepEqual(await handleCodeExecutionToolUse(block, sb), {
    type: "tool_result",
    tool_use_id: "toolu_01A09q90qw90lq917835lq9",
    content: [{ type: "text", text: "stdout:\n42\n\nstderr:\n\nexit_code: 0" }],
    is_error: false,
  });
  const again = await handleCodeExecutionToolUse({ ...block, id: "toolu_2", input: { code: "print(x * 2)" } }, sb);
  assert.equal(again.content[0].text, "stdout:\n82\n\nstderr:\n\nexit_code: 0");
  const bash = await handleCodeExecutionToolUse({ ...block, id: "toolu_3", input: { code: "echo $((6*7))", language: "bash" } }, sb);
  assert.match(bash.content[0].text, /^stdout:\n42\n/);

  const failed = await handleCodeExecutionToolUse({ ...block, id: "toolu_4", input: { code: "1/0" } }, sb);
  assert.equal(failed.is_error, true);
  assert.match(failed.content[0].text, /ZeroDivisionError[\s\S]*exit_code: 1$/);
  const bad = await handleCodeExecutionToolUse({ ...block, id: "toolu_5", input: { command: "ls" } }, sb);
  assert.deepEqual([bad.is_error, bad.content[0].text], [true, "error: the tool input has no string 'code'"]);
  await assert.rejects(handleCodeExecutionToolUse({ ...block, type: "text" }, sb), TypeError);
  assert.equal(codeExecutionTool().name, "code_execution");
  assert.deepEqual(codeExecutionTool().input_schema.required, ["code"]);
});

test("gemini: a functionCall part's call runs and answers {stdout, stderr, exit_code}; the Tool declares run_code", async () => {
  const sb = await sandbox();
  const [decl] = podflareGeminiTool().functionDeclarations;
  assert.equal(decl?.name, "run_code");
  assert.deepEqual(decl?.parameters.required, ["code"]);
  const call = { id: "fc_1", name: "run_code", args: { code: "echo hi; echo oops >&2", language: "bash" } };
  assert.deepEqual(await runFunctionCall(call, sb), { stdout: "hi\n", stderr: "oops\n", exit_code: 0 });
  assert.deepEqual(await runFunctionCall({ name: "run_code", args: { code: "import sys; sys.exit(3)" } }, sb), { stdout: "", stderr: "", exit_code: 3 });
  assert.match((await runFunctionCall({ name: "other", args: {} }, sb)).error ?? "", /unknown function "other"/);
});

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

test("ai-sdk: generateText (the real `ai`) calls podflareRunCode; the sandbox's answer is the tool result the model reads next", async () => {
  const sb = await sandbox();
  const model = new MockLanguageModelV4({
    doGenerate: [
      {
        content: [{ type: "tool-call", toolCallId: "call_1", toolName: "run_python", input: JSON.stringify({ code: "import math; print(math.isqrt(12345))" }) }],
        finishReason: { unified: "tool-calls", raw: "tool_calls" },
        usage,
        warnings: [],
      },
      { content: [{ type: "text", text: "111" }], finishReason: { unified: "stop", raw: "stop" }, usage, warnings: [] },
    ],
  });
  const result = await generateText({ model, prompt: "isqrt(12345)?", tools: { run_python: podflareRunCode({ sandbox: sb }) }, stopWhen: stepCountIs(4) });
  assert.equal(result.text, "111");
  assert.equal(result.steps[0]?.toolResults[0]?.output, "stdout:\n111\n\nstderr:\n\nexit_code: 0");
  // The model was offered the tool with our JSON Schema, and read the sandbox's text back.
  const offered = model.doGenerateCalls[0]?.tools?.[0] as { name: string; inputSchema: { required: string[] } };
  assert.deepEqual([offered.name, offered.inputSchema.required], ["run_python", ["code"]]);
  assert.match(JSON.stringify(model.doGenerateCalls[1]?.prompt.at(-1)), /stdout:\\n111\\n/);
});

test("openai-agents: run() of the real @openai/agents calls podflareCodeInterpreter's run_code and feeds the sandbox's output back", async () => {
  const sb = await sandbox();
  const requests: ModelRequest[] = [];
  const turns: ModelResponse["output"][] = [
    [{ type: "function_call", callId: "call_1", name: "run_code", arguments: JSON.stringify({ code: "print(111 * 111)" }), status: "completed" }],
    [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "12321" }] }],
  ];
  const model: Model = {
    async getResponse(req) {
      requests.push(req);
      return { usage: new Usage(), output: turns[requests.length - 1] ?? [], responseId: `resp_${requests.length}` };
    },
    getStreamedResponse() {
      throw new Error("the scripted model does not stream");
    },
  };
  const agent = new Agent({ name: "assistant", instructions: "Use run_code.", model, tools: [podflareCodeInterpreter({ sandbox: sb })] });
  const result = await run(agent, "what is 111 * 111?");
  assert.equal(result.finalOutput, "12321");
  const offered = requests[0]?.tools[0] as { type: string; name: string; strict: boolean };
  assert.deepEqual([offered.type, offered.name, offered.strict], ["function", "run_code", false]);
  const fed = JSON.stringify(requests[1]?.input);
  assert.match(fed, /"type":"function_call_result".*stdout:\\n12321\\n\\nstderr:\\n\\nexit_code: 0/);
});

test("openai-agents: without a sandbox the tool creates one on its first call and keeps it for the next", async () => {
  const tool = podflareCodeInterpreter();
  const before = new Set((await Sandbox.listSandboxes({ host: hostdUrl() })).map((s) => s.id));
  const marker = `/root/tool-${randomUUID()}`;
  const invoke = (code: string) => tool.invoke({} as never, JSON.stringify({ code }));
  assert.match(String(await invoke(`open(${JSON.stringify(marker)}, "w").write("x"); y = 5; print("made")`)), /^stdout:\nmade\n/);
  assert.match(String(await invoke("print(y)")), /^stdout:\n5\n/);
  // Other test files create sandboxes meanwhile: ours is the new one holding the marker file.
  const fresh = (await Sandbox.listSandboxes({ host: hostdUrl() })).filter((s) => !before.has(s.id));
  const mine: Sandbox[] = [];
  for (const info of fresh) {
    const sb = await Sandbox.connect(info.id, { host: hostdUrl() });
    if (await sb.download(marker).then(() => true, () => false)) mine.push(sb);
  }
  opened.push(...mine);
  assert.equal(mine.length, 1);
});

test("langchain: without @langchain/core, constructing PodflareTool names the package to install", async () => {
  const { PodflareTool } = await import("podflare/langchain");
  assert.throws(() => new PodflareTool(), /podflare\/langchain needs LangChain: npm install @langchain\/core/);
});
