// What every tool shares: the sandbox arguments, the error wrapper, JSON answers.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Sandbox } from "podflare";
import { z } from "zod";
import type { SandboxSession } from "./session.js";
import { toolError } from "./tool-errors.js";

export const sandboxIdArg = z
  .string()
  .regex(/^sbx_[0-9a-f]{32}$/, "a sandbox id looks like sbx_ followed by 32 hex digits")
  .optional()
  .describe("Sandbox to act on (e.g. a fork child). Default: this session's sandbox, created on first use.");

export const recreateArg = z
  .boolean()
  .optional()
  .describe("If this session's sandbox has died, start a fresh one instead of reporting it (its state is lost).");

/** The arguments of a tool that acts on one sandbox. */
export const onSandboxArgs = { sandbox_id: sandboxIdArg, recreate: recreateArg };

export function json(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }] };
}

/** Runs `fn` on the sandbox the arguments name, turning every failure into a tool error. */
export async function onSandbox(
  session: SandboxSession,
  args: { sandbox_id?: string | undefined; recreate?: boolean | undefined },
  fn: (sb: Sandbox) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  let sb: Sandbox;
  try {
    sb = await session.sandbox(args.sandbox_id, args.recreate === true);
  } catch (err) {
    return toolError(err);
  }
  try {
    return await fn(sb);
  } catch (err) {
    return toolError(await session.failed(sb, err));
  }
}

/** A tool body that does not act on one sandbox; failures become tool errors. */
export async function guarded(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (err) {
    return toolError(err);
  }
}

export type Register = (server: McpServer, session: SandboxSession) => void;
