// @podflare/mcp: the MCP server of Podflare, self-hosted. Tools are Podflare's seven
// (run_python, run_bash, fork, diff, merge_into, upload, download) plus ours; see docs/mcp.md.
export { runStdio } from "./stdio.js";
export { McpHttpSessions } from "./http-sessions.js";
export type { McpCaller, McpHttpLimits } from "./http-sessions.js";
export type { BodyReader, RefusalWriter } from "./one-message.js";
export { createMcpServer } from "./server.js";
export { SandboxSession } from "./session.js";
export type { SessionOptions } from "./session.js";
export { execToolResult, resultContent } from "./results.js";
export type { ExecStreamEvent, ToolContent } from "./results.js";
export { MAX_DOWNLOAD_BYTES } from "./tools-files.js";

// Run as a program (`node packages/mcp/dist/index.js`, as Podflare's MCP docs configure Claude
// Desktop and Cursor): the stdio server, as `podflare mcp`. Imported as a library: nothing.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { runStdio as serveStdio } from "./stdio.js";

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  serveStdio().then(
    // The session is over and its sandboxes are closed; idle keep-alive sockets must not hold the process.
    () => process.exit(0),
    (err: Error) => {
      console.error(`podflare mcp: ${err.message}`);
      process.exit(1);
    },
  );
}
