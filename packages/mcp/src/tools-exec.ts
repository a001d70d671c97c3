// run_python and run_bash: Podflare's two exec tools.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Language, Sandbox } from "podflare";
import { z } from "zod";
import { ExecAccumulator, type ExecStreamEvent } from "./results.js";
import type { SandboxSession } from "./session.js";
import { onSandbox, onSandboxArgs } from "./tool-kit.js";

const execArgs = {
  code: z.string().describe("The code to run."),
  timeout_ms: z.number().int().positive().optional().describe("Interrupt the code after this long; it then ends with exit code 124."),
  ...onSandboxArgs,
};

async function run(sb: Sandbox, code: string, language: Language, timeoutMs: number | undefined, signal: AbortSignal): Promise<CallToolResult> {
  // The stream, not runCode: rich events (images, values, structured errors) pass through it,
  // and the output is bounded as it arrives. A call the client cancels (notifications/cancelled,
  // its own timeout) interrupts the code, as a timeout does, instead of leaving it running.
  const acc = new ExecAccumulator();
  for await (const ev of sb.runCodeStream(code, language, timeoutMs === undefined ? { signal, results: true } : { timeoutMs, signal, results: true })) acc.push(ev as ExecStreamEvent);
  return acc.result(sb.id);
}

export function registerExecTools(server: McpServer, session: SandboxSession): void {
  server.registerTool(
    "run_python",
    {
      description:
        "Run Python in the sandbox's persistent REPL: variables, imports and open files stay between calls. " +
        "Returns {sandbox_id, stdout, stderr, exit_code}; an uncaught exception gives a non-zero exit_code and its traceback on stderr. " +
        "Figures and rich values come back as images and text.",
      inputSchema: execArgs,
    },
    (args, extra) => onSandbox(session, args, (sb) => run(sb, args.code, "python", args.timeout_ms, extra.signal)),
  );
  server.registerTool(
    "run_bash",
    {
      description: "Run a bash snippet in a fresh shell (nothing but files carries over between calls). Returns {sandbox_id, stdout, stderr, exit_code}.",
      inputSchema: execArgs,
    },
    (args, extra) => onSandbox(session, args, (sb) => run(sb, args.code, "bash", args.timeout_ms, extra.signal)),
  );
}
