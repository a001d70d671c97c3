// `podflare mcp`: the MCP server on stdio, for Claude Desktop, Claude Code, Cursor (docs/mcp.md).
// Reaches hostd at PODFLARE_HOSTD_URL with PODFLARE_API_KEY, as the SDK does.
import { runStdio } from "@podflare/mcp";
import { parseOrHelp, type CommandSpec } from "./args.js";

const mcpSpec: CommandSpec = {
  usage: `usage: podflare mcp

  The MCP server on stdio, for Claude Desktop, Claude Code, Cursor (docs/mcp.md). No arguments:
  it reaches hostd at PODFLARE_HOSTD_URL with PODFLARE_API_KEY.`,
};

export async function mcpCommand(args: string[]): Promise<number> {
  if (!parseOrHelp(mcpSpec, args)) return 0;
  await runStdio();
  // The session is over and its sandboxes are closed; idle keep-alive sockets must not hold the process.
  process.exit(0);
}
