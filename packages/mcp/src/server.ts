// One McpServer per MCP session, with every tool bound to that session's sandboxes.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SDK_VERSION } from "podflare";
import type { SandboxSession } from "./session.js";
import { registerExecTools } from "./tools-exec.js";
import { registerFileTools } from "./tools-files.js";
import { registerSandboxTools } from "./tools-sandboxes.js";
import { registerTreeTools } from "./tools-tree.js";

const instructions =
  "Podflare sandboxes: Linux boxes with a persistent Python REPL. This session owns one sandbox, " +
  "created on the first tool call and closed when the session ends. Use fork to try several things from one state, " +
  "then merge_into the best child.";

export function createMcpServer(session: SandboxSession): McpServer {
  const server = new McpServer({ name: "podflare", version: SDK_VERSION }, { capabilities: { tools: {} }, instructions });
  registerExecTools(server, session);
  registerTreeTools(server, session);
  registerFileTools(server, session);
  registerSandboxTools(server, session);
  return server;
}
