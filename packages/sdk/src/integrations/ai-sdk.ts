// podflare/ai-sdk: a Vercel AI SDK (`ai`) tool that runs code in a Podflare sandbox. It is the
// object `tool({...})` would return (`tool` is the identity): a description, the input schema
// in the AI SDK's own schema wrapper (the `vercel.ai.schema` marker, JSON Schema, validate),
// and `execute`. Built without importing `ai`, so `podflare` gains no dependency.
import type { Tool } from "ai";
import type { Sandbox } from "../sandbox.js";
import { RUN_CODE_DESCRIPTION, parseRunCodeInput, runCodeJsonSchema, runToolCall, sandboxSource, type RunCodeInput } from "./run-code-tool.js";

export interface PodflareRunCodeOptions {
  /** The sandbox every call runs in; without one, a sandbox is created on the first call and kept. */
  sandbox?: Sandbox;
  /** What the model reads about the tool; the default says state persists across calls. */
  description?: string;
}

// The marker `ai`'s jsonSchema() puts on a schema (Symbol.for, so it is the same symbol in any copy of `ai`).
const schemaSymbol = Symbol.for("vercel.ai.schema");

function runCodeSchema() {
  return {
    [schemaSymbol]: true,
    _type: undefined as unknown as RunCodeInput,
    jsonSchema: runCodeJsonSchema(),
    validate(value: unknown) {
      const parsed = parseRunCodeInput(value);
      return "problem" in parsed ? { success: false as const, error: new TypeError(parsed.problem) } : { success: true as const, value: parsed };
    },
  };
}

/**
 * A `run_code`-style tool for `generateText` / `streamText`: input `{code, language?}`,
 * output the text `stdout:\n…\nstderr:\n…\nexit_code: N`. The schema is given both as
 * `inputSchema` (AI SDK 5 and later) and `parameters` (AI SDK 4).
 *
 * @example
 * const sandbox = await Sandbox.create();
 * const result = await generateText({ model, prompt, tools: { run_python: podflareRunCode({ sandbox }) }, stopWhen: stepCountIs(8) });
 * await sandbox.close();
 */
export function podflareRunCode(opts: PodflareRunCodeOptions = {}): Tool<RunCodeInput, string> {
  const source = sandboxSource(opts.sandbox);
  const schema = runCodeSchema();
  const t = {
    description: opts.description ?? RUN_CODE_DESCRIPTION,
    inputSchema: schema,
    parameters: schema,
    execute: async (input: RunCodeInput): Promise<string> => (await runToolCall(await source.get(), input)).text,
  };
  return t as unknown as Tool<RunCodeInput, string>;
}
