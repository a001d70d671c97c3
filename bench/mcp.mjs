// The MCP server's cost over the SDK it wraps: a hot run_python through Streamable HTTP
// (/mcp on hostd) and through stdio (`podflare mcp`), beside the TS SDK's runCode on the
// same hostd; a session's start and its first call (which makes the sandbox). Not in the
// default list: `PODFLARE_BENCHES=mcp npm run bench`, or alone `node bench/mcp.mjs` with
// PODFLARE_HOSTD_URL set.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Sandbox } from "podflare";
import { printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.env.PODFLARE_BENCH_MCP_RUNS || 100);
const host = () => (process.env.PODFLARE_HOSTD_URL || "http://127.0.0.1:7070").replace(/\/+$/, "");
const row = (name, samples, baseline) => ({ name, stats: summarize(samples), samples, baseline });

async function httpClient() {
  const transport = new StreamableHTTPClientTransport(new URL(`${host()}/mcp`));
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return { client, end: async () => { await transport.terminateSession(); await client.close(); } };
}

async function stdioClient() {
  const transport = new StdioClientTransport({ command: process.execPath, args: [path.join(root, "packages/cli/dist/main.js"), "mcp"], env: { ...process.env }, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return { client, end: () => client.close() };
}

async function hotCalls(client) {
  await client.callTool({ name: "run_python", arguments: { code: "print(1)" } }); // makes the sandbox
  const out = [];
  for (let i = 0; i < runs; i++) out.push(await time(() => client.callTool({ name: "run_python", arguments: { code: "print(1)" } })));
  return out;
}

export async function runMcp() {
  const sb = await Sandbox.create();
  const sdk = [];
  try {
    await sb.runCode("print(1)");
    for (let i = 0; i < runs; i++) sdk.push(await time(() => sb.runCode("print(1)")));
  } finally {
    await sb.close();
  }
  const http = await httpClient();
  let httpHot;
  try {
    httpHot = await hotCalls(http.client);
  } finally {
    await http.end();
  }
  const stdio = await stdioClient();
  let stdioHot;
  try {
    stdioHot = await hotCalls(stdio.client);
  } finally {
    await stdio.end();
  }
  const starts = [];
  const firsts = [];
  for (let i = 0; i < Math.max(5, Math.floor(runs / 10)); i++) {
    let c;
    starts.push(await time(async () => (c = await httpClient())));
    firsts.push(await time(() => c.client.callTool({ name: "run_python", arguments: { code: "print(1)" } })));
    await c.end();
  }
  const base = row("TS SDK runCode print(1), hot", sdk);
  const rows = [
    base,
    row("MCP HTTP run_python print(1), hot", httpHot, base),
    row("MCP stdio run_python print(1), hot", stdioHot, base),
    row("MCP HTTP session start (initialize)", starts),
    row("MCP HTTP first run_python (makes the sandbox)", firsts),
  ];
  printTable(`mcp (${runs} hot calls each)`, rows);
  return { rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })) };
}

if (import.meta.url === `file://${process.argv[1]}`) await runMcp();
