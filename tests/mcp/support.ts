// MCP clients for the tests: the official SDK's Client over stdio (`podflare mcp`, spawned)
// and over Streamable HTTP (hostd's /mcp), plus a tool-call helper that reads our JSON answers.
import assert from "node:assert/strict";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { repoRoot } from "../conformance/support.js";

export const cliPath = path.join(repoRoot, "packages/cli/dist/main.js");

export interface McpConn {
  client: Client;
  /** Ends the session the way its transport does: stdin EOF, or HTTP DELETE. */
  end(): Promise<void>;
  /** The server process (stdio only). */
  pid?: number | undefined;
}

/** `args`: the server's command line after node (default `podflare mcp`). */
export async function stdioConn(hostdUrl: string, env: Record<string, string> = {}, args = [cliPath, "mcp"]): Promise<McpConn> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PODFLARE_")) clean[k] = v;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { ...clean, PODFLARE_HOSTD_URL: hostdUrl, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "podflare-tests", version: "0.0.0" });
  await client.connect(transport);
  return { client, pid: transport.pid ?? undefined, end: () => client.close() };
}

export async function httpConn(hostdUrl: string, headers: Record<string, string> = {}): Promise<McpConn & { transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${hostdUrl}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: "podflare-tests", version: "0.0.0" });
  await client.connect(transport);
  return {
    client,
    transport,
    end: async () => {
      await transport.terminateSession();
      await client.close();
    },
  };
}

export interface ToolAnswer {
  isError: boolean;
  /** The first text item, parsed as JSON (every tool answers JSON first). */
  json: Record<string, unknown>;
  content: { type: string; text?: string; data?: string; mimeType?: string }[];
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
  const res = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: ToolAnswer["content"] };
  const first = res.content[0];
  assert.ok(first && first.type === "text" && typeof first.text === "string", `${name} answered no text: ${JSON.stringify(res)}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(first.text!) as Record<string, unknown>;
  } catch {
    json = { text: first.text };
  }
  return { isError: res.isError === true, json, content: res.content };
}

/** Calls a tool that must succeed; returns its JSON. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = await call(client, name, args);
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Waits until hostd no longer knows the sandbox. */
export async function sandboxGone(hostdUrl: string, id: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<void> {
  await until(async () => {
    const res = await api("GET", `/v1/sandboxes/${id}`, undefined, hostdUrl, headers);
    await res.arrayBuffer();
    return res.status === 404;
  }, `sandbox ${id} should be closed`, timeoutMs);
}

export async function sandboxAlive(hostdUrl: string, id: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await api("GET", `/v1/sandboxes/${id}`, undefined, hostdUrl, headers);
  await res.arrayBuffer();
  return res.status === 200;
}

export const podflareTools = ["run_python", "run_bash", "fork", "diff", "merge_into", "upload", "download"];
export const ourTools = ["create_sandbox", "list_sandboxes", "close_sandbox", "freeze", "resume_space", "list_files", "port_url"];
