// podflare/gemini: Gemini function calling (@google/genai) backed by a Podflare sandbox. Plain
// data only: the function declaration and the function response are JSON objects the
// @google/genai types accept as they are, so nothing of Google's is imported.
import type { Sandbox } from "../sandbox.js";
import { RUN_CODE_DESCRIPTION, RUN_CODE_NAME, runToolCall } from "./run-code-tool.js";

/** A Gemini FunctionDeclaration (OpenAPI-style schema, as `@google/genai`'s `Type` enum spells it). */
export interface GeminiFunctionDeclaration {
  name: string;
  description: string;
  parameters: {
    type: "OBJECT";
    properties: { code: { type: "STRING"; description: string }; language: { type: "STRING"; enum: string[]; description: string } };
    required: string[];
  };
}

/** A model's function call: `part.functionCall` (`{name, args, id?}`). */
export interface GeminiFunctionCall {
  name?: string;
  args?: Record<string, unknown>;
  id?: string;
}

/** What goes into `createPartFromFunctionResponse(id, name, response)` / `functionResponse.response`. */
export interface GeminiRunCodeResponse {
  stdout: string;
  stderr: string;
  exit_code: number;
  error?: string;
}

/**
 * The `run_code` function declaration: `code` (required) and `language` ("python" or "bash").
 *
 * @example
 * config: { tools: [{ functionDeclarations: [podflareFunctionDeclaration()] }] }
 */
export function podflareFunctionDeclaration(): GeminiFunctionDeclaration {
  return {
    name: RUN_CODE_NAME,
    description: RUN_CODE_DESCRIPTION,
    parameters: {
      type: "OBJECT",
      properties: {
        code: { type: "STRING", description: "Code to execute." },
        language: { type: "STRING", enum: ["python", "bash"], description: "Runtime; defaults to python." },
      },
      required: ["code"],
    },
  };
}

/**
 * A Gemini `Tool` holding the `run_code` declaration, for `config.tools`.
 *
 * @example
 * const resp = await ai.models.generateContent({ model, contents, config: { tools: [podflareGeminiTool()] } });
 */
export function podflareGeminiTool(): { functionDeclarations: GeminiFunctionDeclaration[] } {
  return { functionDeclarations: [podflareFunctionDeclaration()] };
}

/**
 * Runs a `run_code` function call in `sandbox` and returns the response object
 * `{stdout, stderr, exit_code}` (with `error` when the call's args were unusable).
 *
 * @example
 * for (const call of resp.functionCalls ?? []) {
 *   parts.push(createPartFromFunctionResponse(call.id ?? "", call.name ?? "run_code", await runFunctionCall(call, sandbox)));
 * }
 */
export async function runFunctionCall(call: GeminiFunctionCall, sandbox: Sandbox): Promise<GeminiRunCodeResponse> {
  if (call?.name !== undefined && call.name !== RUN_CODE_NAME) {
    return { stdout: "", stderr: "", exit_code: -1, error: `unknown function ${JSON.stringify(call.name)}: only ${RUN_CODE_NAME} runs here` };
  }
  const run = await runToolCall(sandbox, call?.args ?? {});
  if (!run.result) return { stdout: "", stderr: "", exit_code: -1, error: run.text.replace(/^error: /, "") };
  return { stdout: run.result.stdout, stderr: run.result.stderr, exit_code: run.result.exitCode };
}
