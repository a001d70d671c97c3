// What every model-provider adapter shares: the one tool the model sees (name, description,
// JSON schema of its input), running a call's input in a sandbox, and the text handed back.
// The adapters only translate this into each framework's own shape.
import { Sandbox } from "../sandbox.js";
import type { ExecResult } from "../events.js";
import type { Language } from "../types.js";

export const RUN_CODE_NAME = "run_code";

export const RUN_CODE_DESCRIPTION =
  "Execute code in an isolated Podflare sandbox. Supports python (the default) and bash. " +
  "The same sandbox is reused across calls, so variables, imports and files persist. " +
  "Returns stdout, stderr and exit_code.";

/** The tool's input as JSON Schema: `{code, language?}`. */
export function runCodeJsonSchema(): {
  type: "object";
  properties: { code: { type: "string"; description: string }; language: { type: "string"; enum: Language[]; description: string } };
  required: ["code"];
  additionalProperties: false;
} {
  return {
    type: "object",
    properties: {
      code: { type: "string", description: "Code to execute." },
      language: { type: "string", enum: ["python", "bash"], description: "Runtime; defaults to python." },
    },
    required: ["code"],
    additionalProperties: false,
  };
}

export interface RunCodeInput {
  code: string;
  language?: Language;
}

/** A tool input the model sent, checked: a string `code` and, if any, a known `language`. */
export function parseRunCodeInput(input: unknown): RunCodeInput | { problem: string } {
  const o = typeof input === "string" ? safeJson(input) : input;
  if (typeof o !== "object" || o === null) return { problem: "the tool input must be an object {code, language?}" };
  const { code, language } = o as Record<string, unknown>;
  if (typeof code !== "string") return { problem: "the tool input has no string 'code'" };
  if (language !== undefined && language !== null && language !== "python" && language !== "bash") {
    return { problem: `unknown language ${JSON.stringify(language)}: use "python" or "bash"` };
  }
  return { code, language: (language ?? undefined) as Language | undefined };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** The text the model reads: both streams and the exit code, as the hosted adapters write it. */
export function formatRunResult(r: Pick<ExecResult, "stdout" | "stderr" | "exitCode">): string {
  return `stdout:\n${r.stdout}\nstderr:\n${r.stderr}\nexit_code: ${r.exitCode}`;
}

/** What a call comes to: the text for the model, and whether it is an error (exit code not 0, or bad input). */
export interface ToolRun {
  text: string;
  isError: boolean;
  result?: ExecResult;
}

/** Runs one tool call's input in `sandbox`. Bad input is an error result for the model, not a throw. */
export async function runToolCall(sandbox: Sandbox, input: unknown): Promise<ToolRun> {
  const parsed = parseRunCodeInput(input);
  if ("problem" in parsed) return { text: `error: ${parsed.problem}`, isError: true };
  const result = await sandbox.runCode(parsed.code, parsed.language ?? "python");
  return { text: formatRunResult(result), isError: result.exitCode !== 0, result };
}

/** Where an adapter's sandbox comes from: the one given, or one created on the first call and kept. */
export interface SandboxSource {
  get(): Promise<Sandbox>;
  /** Closes the sandbox if this source created it; a given one is the caller's to close. */
  close(): Promise<void>;
}

export function sandboxSource(given?: Sandbox): SandboxSource {
  let created: Promise<Sandbox> | undefined;
  return {
    get() {
      if (given) return Promise.resolve(given);
      // A failed create is not kept: the next call tries again.
      created ??= Sandbox.create().catch((e: unknown) => {
        created = undefined;
        throw e;
      });
      return created;
    },
    async close() {
      if (!created) return;
      const sb = await created.catch(() => undefined);
      created = undefined;
      await sb?.close();
    },
  };
}
