// podflare/anthropic: run Claude's code-execution tool_use blocks in a Podflare sandbox and
// answer with the matching tool_result block (Anthropic Messages API wire shape, snake_case).
import type { Sandbox } from "../sandbox.js";
import { RUN_CODE_DESCRIPTION, runCodeJsonSchema, runToolCall } from "./run-code-tool.js";

/** A tool_use content block as the Anthropic SDK gives it (or the same as plain JSON). */
export interface ToolUseBlock {
  type: string;
  id: string;
  name: string;
  input: unknown;
}

/** The tool_result block to send back in the next user message. */
export interface CodeExecutionToolResult {
  type: "tool_result";
  tool_use_id: string;
  content: [{ type: "text"; text: string }];
  is_error: boolean;
}

/**
 * A client tool named `code_execution` with input `{code, language?}`: declare it in
 * `tools` and Claude answers with `tool_use` blocks for {@link handleCodeExecutionToolUse}.
 * (The `code_execution_20250825` type declares Anthropic's own server tool instead, which
 * Anthropic runs itself; see docs/integrations.md.)
 *
 * @example
 * const resp = await client.messages.create({ model, max_tokens: 1024, tools: [codeExecutionTool()], messages });
 */
export function codeExecutionTool(): { name: "code_execution"; description: string; input_schema: ReturnType<typeof runCodeJsonSchema> } {
  return { name: "code_execution", description: RUN_CODE_DESCRIPTION, input_schema: runCodeJsonSchema() };
}

/**
 * Runs a `tool_use` block's `input.code` (`input.language`: "python", the default, or
 * "bash") in `sandbox` and returns the tool_result: text `stdout:\n…\nstderr:\n…\nexit_code: N`,
 * `is_error` when the exit code is not 0 or the input has no string `code`. The same sandbox
 * across calls keeps one REPL for the whole conversation.
 *
 * @example
 * const results = await Promise.all(
 *   resp.content.filter((b) => b.type === "tool_use" && b.name === "code_execution")
 *     .map((b) => handleCodeExecutionToolUse(b, sandbox)),
 * );
 * messages.push({ role: "user", content: results });
 */
export async function handleCodeExecutionToolUse(block: ToolUseBlock, sandbox: Sandbox): Promise<CodeExecutionToolResult> {
  if (block?.type !== "tool_use") {
    throw new TypeError(`handleCodeExecutionToolUse takes a tool_use block, got type ${JSON.stringify(block?.type)}`);
  }
  const run = await runToolCall(sandbox, block.input);
  return { type: "tool_result", tool_use_id: block.id, content: [{ type: "text", text: run.text }], is_error: run.isError };
}
