// podflare/langchain: a LangChain.js tool (a real StructuredTool subclass, from the
// application's copy of `@langchain/core`, an optional peer dependency) that keeps one Podflare
// sandbox across calls. `@langchain/core` is loaded with this module; without it, constructing
// the tool throws an error naming the package to install.
import type { Sandbox } from "../sandbox.js";
import { RUN_CODE_DESCRIPTION, RUN_CODE_NAME, runCodeJsonSchema, runToolCall, sandboxSource, type SandboxSource } from "./run-code-tool.js";

interface StructuredToolBase {
  new (fields?: Record<string, unknown>): object;
}

// `@langchain/core` is not a dependency (and not installed here), so its module is typed by hand.
const langchainModule = "@langchain/core/tools";
const core = (await import(langchainModule).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))) as
  | { StructuredTool: StructuredToolBase }
  | Error;

class MissingLangChain {
  constructor() {
    const why = core instanceof Error ? core.message : "no StructuredTool export";
    throw new Error(`podflare/langchain needs LangChain: npm install @langchain/core (${why})`);
  }
}

const Base: StructuredToolBase = core instanceof Error || typeof core.StructuredTool !== "function" ? MissingLangChain : core.StructuredTool;

export interface PodflareToolOptions {
  /** The sandbox every call runs in; without one, a sandbox is created on the first call and kept until close(). */
  sandbox?: Sandbox;
  /** The tool's name (default "run_code"). */
  name?: string;
  /** What the model reads about the tool. */
  description?: string;
}

/**
 * A LangChain StructuredTool `run_code` (input `{code, language?}`, output
 * `stdout:\n…\nstderr:\n…\nexit_code: N`) on one sandbox for all its calls; `close()`
 * closes a sandbox the tool created.
 *
 * @example
 * const tool = new PodflareTool();
 * try {
 *   const agent = createReactAgent({ llm, tools: [tool] });
 *   await agent.invoke({ messages: [["user", "What's the 100th prime? Use code."]] });
 * } finally {
 *   await tool.close();
 * }
 */
export class PodflareTool extends Base {
  name: string;
  description: string;
  schema = runCodeJsonSchema();
  readonly #source: SandboxSource;

  constructor(opts: PodflareToolOptions = {}) {
    super();
    this.name = opts.name ?? RUN_CODE_NAME;
    this.description = opts.description ?? RUN_CODE_DESCRIPTION;
    this.#source = sandboxSource(opts.sandbox);
  }

  /** StructuredTool's hook: runs the parsed input and answers the text. */
  protected async _call(input: unknown): Promise<string> {
    return (await runToolCall(await this.#source.get(), input)).text;
  }

  /** Closes the sandbox this tool created (a given sandbox stays open). */
  async close(): Promise<void> {
    await this.#source.close();
  }
}
