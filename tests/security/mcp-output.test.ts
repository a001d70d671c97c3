// A sandbox's output through MCP is bounded: over HTTP the MCP session lives in hostd, so an
// exec printing without end must not grow hostd's memory with it (DESIGN §11: every buffer
// between a sandbox and a client is bounded).
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, test } from "node:test";
import { hostdUrl } from "../support/api.js";
import { call, httpConn, ok, type McpConn } from "../mcp/support.js";
import { hostdPid } from "../support/hostd-memory.js";

const MAX_STREAM_CHARS = 1024 * 1024;
const conns: McpConn[] = [];
after(async () => {
  for (const c of conns) await c.end();
});

test("run_python keeps at most 1 MiB of each stream, head and tail, and says how much it dropped", async () => {
  const c = await httpConn(hostdUrl());
  conns.push(c);
  // 8 MB on stdout, the last line marked; 3 MB on stderr.
  const code = "import sys\nfor i in range(80): print('x' * 99_999)\nprint('THE END')\nsys.stderr.write('e' * 3_000_000)";
  const r = await ok(c.client, "run_python", { code });
  const stdout = String(r["stdout"]);
  const stderr = String(r["stderr"]);
  assert.ok(stdout.length <= MAX_STREAM_CHARS + 200, `stdout came back with ${stdout.length} characters`);
  assert.ok(stderr.length <= MAX_STREAM_CHARS + 200, `stderr came back with ${stderr.length} characters`);
  assert.ok(stdout.startsWith("x".repeat(1000)), "the head is kept");
  assert.ok(stdout.endsWith("THE END\n"), "the tail is kept");
  assert.equal(r["stdout_dropped_chars"], 80 * 100_000 + 8 - stdout.length + markerLength(stdout));
  assert.equal(r["exit_code"], 0);
  // The session goes on.
  assert.equal((await ok(c.client, "run_python", { code: "print('still here')" }))["stdout"], "still here\n");
});

/** The pid of the process listening on the test hostd's port. */

/** Bytes a process has read so far, sockets included (/proc/<pid>/io rchar). */
function bytesRead(pid: number): number {
  return Number(/^rchar:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))?.[1]);
}

test("download of a file over its limit is refused from its declared size: hostd does not read the file", async () => {
  const c = await httpConn(hostdUrl());
  conns.push(c);
  const size = 768 * 1024 * 1024; // sparse: costs the sandbox no disk
  await ok(c.client, "run_bash", { code: `truncate -s ${size} /root/big.bin` });
  const pid = hostdPid();
  const before = bytesRead(pid);
  const r = await call(c.client, "download", { path: "/root/big.bin" });
  const read = bytesRead(pid) - before;
  assert.equal(r.isError, true);
  assert.equal(r.json["code"], "payload_too_large");
  assert.match(String(r.json["error"]), new RegExp(`${size} bytes`));
  assert.ok(read < size / 8, `hostd read ${(read / 2 ** 20).toFixed(0)} MB to refuse a ${size / 2 ** 20} MB download`);
  assert.equal((await ok(c.client, "run_python", { code: "print('still here')" }))["stdout"], "still here\n");
});

test("diff of a sandbox whose print was replaced to flood its listing is refused at 32 MiB: hostd does not read the flood", async () => {
  const c = await httpConn(hostdUrl());
  conns.push(c);
  const [other] = (await ok(c.client, "fork", { n: 1 }))["children"] as string[];
  // The diff helper runs with fresh globals but the sandbox's own builtins.
  await ok(c.client, "run_python", {
    code: "import builtins, sys\ndef flood(*a, **k):\n    for _ in range(400): sys.stdout.write('x' * 1_000_000)\nbuiltins.print = flood",
  });
  const pid = hostdPid();
  const before = bytesRead(pid);
  const r = await call(c.client, "diff", { other_id: other! });
  const read = bytesRead(pid) - before;
  assert.equal(r.isError, true, JSON.stringify(r.json).slice(0, 300));
  assert.equal(r.json["code"], "payload_too_large");
  assert.ok(read < 200 * 2 ** 20, `hostd read ${(read / 2 ** 20).toFixed(0)} MB for one diff`);
  const after = await ok(c.client, "run_bash", { code: "echo ok" });
  assert.equal(after["stdout"], "ok\n");
});

function markerLength(text: string): number {
  const m = /\n\[… \d+ characters dropped …\]\n/.exec(text);
  return m ? m[0].length : 0;
}
