// @podflare/mcp: the MCP server of Podflare, self-hosted. Tools are Podflare's seven
// (run_python, run_bash, fork, diff, merge_into, upload, download) plus ours; see docs/mcp.md.
export { runStdio } from "./stdio.js";
export { McpHttpSessions } from "./http-sessions.js";
export type { McpCaller, McpHttpLimits } from "./http-sessions.js";
export { createMcpServer } from "./server.js";
export { SandboxSession } from "./session.js";
export type { SessionOptions } from "./session.js";
export { execToolResult, resultContent } from "./results.js";
export type { ExecStreamEvent, ToolContent } from "./results.js";
export { MAX_DOWNLOAD_BYTES } from "./tools-files.js";
