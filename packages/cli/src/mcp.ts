// `podflare mcp`: the MCP server on stdio, for Claude Desktop, Claude Code, Cursor (docs/mcp.md).
// Reaches hostd at PODFLARE_HOSTD_URL with PODFLARE_API_KEY, as the SDK does.
import { runStdio } from "@podflare/mcp";

export async function mcpCommand(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error("usage: podflare mcp   (no arguments; set PODFLARE_HOSTD_URL and PODFLARE_API_KEY)");
    return 2;
  }
  await runStdio();
  // The session is over and its sandboxes are closed; idle keep-alive sockets must not hold the process.
  process.exit(0);
}
