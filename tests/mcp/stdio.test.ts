// `podflare mcp` over stdio, spawned as an MCP client would, driven by the official Client
// against the test hostd.
import assert from "node:assert/strict";
import { test } from "node:test";
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
