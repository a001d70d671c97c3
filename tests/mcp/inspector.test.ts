// @modelcontextprotocol/inspector-cli (pinned) in its CLI mode against our servers: an outside
// client that is not ours and not the SDK's Client used elsewhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { hostdUrl } from "../support/api.js";
import { repoRoot } from "../conformance/support.js";
import { cliPath, ourTools, podflareTools, sandboxGone } from "./support.js";

const inspector = path.join(repoRoot, "node_modules/.bin/mcp-inspector-cli");

function inspect(args: string[]): unknown {
  // cwd one level below the root: inspector-cli 1.0.3 tests "../package.json" against the
  // working directory to find its own package.json.
  const r = spawnSync(inspector, ["--cli", ...args], { cwd: path.join(repoRoot, "tests"), encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `inspector-cli ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

test("inspector-cli: tools/list over stdio (podflare mcp) lists every tool with an object input schema", () => {
  const out = inspect([process.execPath, cliPath, "mcp", "--method", "tools/list"]) as { tools: { name: string; inputSchema: { type: string } }[] };
  assert.deepEqual(out.tools.map((t) => t.name).sort(), [...podflareTools, ...ourTools].sort());
  for (const t of out.tools) assert.equal(t.inputSchema.type, "object", t.name);
});

test("inspector-cli: tools/call run_python over stdio runs the code; the sandbox is closed when the inspector disconnects", async () => {
  const out = inspect([
    "-e", `PODFLARE_HOSTD_URL=${hostdUrl()}`,
    process.execPath, cliPath, "mcp",
    "--method", "tools/call", "--tool-name", "run_python", "--tool-arg", "code=print(6*7)",
  ]) as { content: { type: string; text: string }[]; isError?: boolean };
  assert.notEqual(out.isError, true, JSON.stringify(out));
  const result = JSON.parse(out.content[0]!.text) as { sandbox_id: string; stdout: string; exit_code: number };
  assert.deepEqual({ stdout: result.stdout, exit_code: result.exit_code }, { stdout: "42\n", exit_code: 0 });
  await sandboxGone(hostdUrl(), result.sandbox_id);
});

test("inspector-cli: tools/list over Streamable HTTP at hostd's /mcp", () => {
  const out = inspect([`${hostdUrl()}/mcp`, "--transport", "http", "--method", "tools/list"]) as { tools: { name: string }[] };
  assert.deepEqual(out.tools.map((t) => t.name).sort(), [...podflareTools, ...ourTools].sort());
});
