// upload, download (base64, as Podflare's MCP server), list_files.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { downloadAtMost } from "./bounded-download.js";
import type { SandboxSession } from "./session.js";
import { McpToolError } from "./tool-errors.js";
import { json, onSandbox, onSandboxArgs } from "./tool-kit.js";

/** Largest file download returns: its base64 travels inside one JSON-RPC message. */
export const MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024;

const pathArg = z.string().min(1).describe("Path inside the sandbox; a relative path is taken from /root.");

export function registerFileTools(server: McpServer, session: SandboxSession): void {
  server.registerTool(
    "upload",
    {
      description: "Write bytes (base64) to a file in the sandbox, creating parent directories. Returns {path, bytes}.",
      inputSchema: { path: pathArg, content_base64: z.string().describe("The file's content, base64-encoded."), ...onSandboxArgs },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const b64 = args.content_base64.replace(/\s+/g, "");
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
          throw new McpToolError("bad_request", "content_base64 is not valid base64 (standard alphabet, optional = padding)");
        }
        const data = Buffer.from(b64, "base64");
        await sb.upload(data, args.path);
        return json({ sandbox_id: sb.id, path: args.path, bytes: data.length });
      }),
  );
  server.registerTool(
    "download",
    {
      description: `Read a file from the sandbox. Returns {path, bytes, content_base64}. Files over ${MAX_DOWNLOAD_BYTES} bytes are refused.`,
      inputSchema: { path: pathArg, ...onSandboxArgs },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const data = await downloadAtMost(session.connection, sb.id, args.path, MAX_DOWNLOAD_BYTES);
        return json({ sandbox_id: sb.id, path: args.path, bytes: data.length, content_base64: data.toString("base64") });
      }),
  );
  server.registerTool(
    "list_files",
    {
      description: "List a directory in the sandbox: [{name, type, size, mode, mtime_ms}].",
      inputSchema: { path: pathArg.optional().describe("Directory to list (default /root)."), ...onSandboxArgs },
    },
    (args) =>
      onSandbox(session, args, async (sb) => {
        const entries = await sb.list(args.path ?? "/root");
        return json({
          sandbox_id: sb.id,
          path: args.path ?? "/root",
          entries: entries.map((e) => ({ name: e.name, type: e.type, size: e.size, mode: e.mode, mtime_ms: e.mtimeMs })),
        });
      }),
  );
}
