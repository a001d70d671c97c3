// podflare/openai-agents: a function tool for the OpenAI Agents SDK (`@openai/agents`) that runs
// code in a Podflare sandbox. The tool is made by the Agents SDK's own tool(), loaded from the
// application's copy of `@openai/agents` (an optional peer dependency), so it is whatever that
// version's runner expects.
import type { FunctionTool } from "@openai/agents";
import type { Sandbox } from "../sandbox.js";
import { RUN_CODE_DESCRIPTION, RUN_CODE_NAME, runCodeJsonSchema, runToolCall, sandboxSource } from "./run-code-tool.js";

type AgentsModule = typeof import("@openai/agents");

// Loaded once with this module; a missing package is reported when the tool is asked for.
const agents: AgentsModule | Error = await import("@openai/agents").catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));

export interface PodflareCodeInterpreterOptions {
  /** The sandbox every call runs in; without one, a sandbox is created on the first call and kept. */
  sandbox?: Sandbox;
  /** The tool's name as the model sees it (default "run_code"). */
  name?: string;
  /** What the model reads about the tool; the default says state persists across calls. */
  description?: string;
}

/**
 * A function tool `run_code` with input `{code, language?}` whose result is the text
 * `stdout:\n…\nstderr:\n…\nexit_code: N`. Throws if `@openai/agents` is not installed.
 *
 * @example
 * import { Agent, run } from "@openai/agents";
 * const agent = new Agent({ name: "assistant", instructions: "Use run_code.", tools: [podflareCodeInterpreter({ sandbox })] });
 * const result = await run(agent, "what is 111 * 111?");
 */
export function podflareCodeInterpreter(opts: PodflareCodeInterpreterOptions = {}): FunctionTool {
  if (agents instanceof Error) {
    throw new Error(`podflare/openai-agents needs the OpenAI Agents SDK: npm install @openai/agents (${agents.message})`);
  }
  const source = sandboxSource(opts.sandbox);
  return agents.tool({
    name: opts.name ?? RUN_CODE_NAME,
    description: opts.description ?? RUN_CODE_DESCRIPTION,
    // Non-strict: `language` may be left out (strict mode would require every property).
    parameters: { ...runCodeJsonSchema(), additionalProperties: true },
    strict: false,
    execute: async (input: unknown) => (await runToolCall(await source.get(), input)).text,
  }) as unknown as FunctionTool;
}
