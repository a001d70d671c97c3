// `podflare mcp` over stdio, spawned as an MCP client would, driven by the official Client
// against the test hostd.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { hostdUrl } from "../support/api.js";
import { until } from "../support/host.js";
import { ok, sandboxGone, stdioConn } from "./support.js";
import { toolSuite } from "./tool-suite.js";

toolSuite("stdio", hostdUrl, () => stdioConn(hostdUrl()));

test("stdio: EOF on stdin ends the server process after it closed the session's sandbox", async () => {
  const c = await stdioConn(hostdUrl());
  const id = String((await ok(c.client, "run_python", { code: "print(1)" }))["sandbox_id"]);
  const pid = c.pid!;
  await c.end(); // closes the child's stdin
  await sandboxGone(hostdUrl(), id);
  await until(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, `podflare mcp (pid ${pid}) should exit after stdin closed`);
  assert.ok(true);
});

test("stdio: SIGTERM ends the server after it closed the session's sandbox", async () => {
  const c = await stdioConn(hostdUrl());
  const id = String((await ok(c.client, "run_python", { code: "print(1)" }))["sandbox_id"]);
  process.kill(c.pid!, "SIGTERM");
  await sandboxGone(hostdUrl(), id);
  await c.client.close();
});

test("stdio: `node packages/mcp/dist/index.js`, the launch line of Podflare's MCP docs, serves the same tools", async () => {
  const mcpMain = fileURLToPath(new URL("../../../packages/mcp/dist/index.js", import.meta.url));
  // Configured as the docs do: PODFLARE_HOST, not PODFLARE_HOSTD_URL.
  const c = await stdioConn(hostdUrl(), { PODFLARE_HOST: hostdUrl(), PODFLARE_HOSTD_URL: "" }, [mcpMain]);
  try {
    const tools = (await c.client.listTools()).tools.map((t) => t.name);
    for (const name of ["run_python", "run_bash", "fork", "diff", "merge_into", "upload", "download"]) assert.ok(tools.includes(name), `${name} in ${tools.join(", ")}`);
    const out = await ok(c.client, "run_python", { code: "print(6 * 7)" });
    assert.match(String(out["stdout"]), /^42\n/);
    const id = String(out["sandbox_id"]);
    await c.end();
    await sandboxGone(hostdUrl(), id);
  } finally {
    await c.client.close();
  }
});
