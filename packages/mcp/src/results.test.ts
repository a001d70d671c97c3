import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedText, execToolResult, resultContent } from "./results.js";

const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

test("stdout, stderr and the exit code become Podflare's {stdout, stderr, exit_code} text", () => {
  const r = execToolResult("sbx_1", [
    { type: "stdout", data: "a\n" },
    { type: "stderr", data: "warn\n" },
    { type: "stdout", data: "b" },
    { type: "exit", data: 0 },
  ]);
  assert.equal(r.content.length, 1);
  assert.deepEqual(JSON.parse((r.content[0] as { text: string }).text), { sandbox_id: "sbx_1", stdout: "a\nb", stderr: "warn\n", exit_code: 0 });
});

test("an image/png result becomes MCP image content; a text result becomes text, in stream order", () => {
  const r = execToolResult("sbx_1", [
    { type: "stdout", data: "plotting\n" },
    { type: "result", data: { "image/png": png, "text/plain": "<Figure size 640x480 with 1 Axes>" }, is_main_result: false },
    { type: "result", data: { "text/plain": "42" }, is_main_result: true },
    { type: "exit", data: 0 },
  ]);
  assert.deepEqual(r.content.slice(1), [
    { type: "image", data: png, mimeType: "image/png" },
    { type: "text", text: "42" },
  ]);
});

test("an error event is carried in the summary as {name, value, traceback}", () => {
  const r = execToolResult("sbx_1", [
    { type: "stderr", data: "Traceback...\n" },
    { type: "error", name: "ZeroDivisionError", value: "division by zero", traceback: ["Traceback", "ZeroDivisionError: division by zero"] },
    { type: "exit", data: 1 },
  ]);
  const summary = JSON.parse((r.content[0] as { text: string }).text) as Record<string, unknown>;
  assert.equal(summary["exit_code"], 1);
  assert.deepEqual(summary["error"], { name: "ZeroDivisionError", value: "division by zero", traceback: "Traceback\nZeroDivisionError: division by zero" });
});

test("unknown event types and unusable bundles are skipped, base64 line breaks removed", () => {
  assert.equal(resultContent({ "application/json": { a: 1 } }), undefined);
  assert.equal(resultContent(null), undefined);
  assert.deepEqual(resultContent({ "image/jpeg": "AAAA\nBBBB\n" }), { type: "image", data: "AAAABBBB", mimeType: "image/jpeg" });
  const r = execToolResult("sbx_1", [{ type: "progress", data: 5 }, { type: "exit", data: 0 }]);
  assert.equal(r.content.length, 1);
});

test("a stream over its bound keeps its head and tail and counts what it dropped", () => {
  const t = new BoundedText(10);
  for (const chunk of ["abc", "defgh", "ijklmnop", "qrstuvwxyz"]) t.push(chunk);
  assert.equal(t.droppedChars, 16);
  assert.equal(t.text(), "abcde\n[… 16 characters dropped …]\nvwxyz");
  const small = new BoundedText(10);
  small.push("abcdefghij");
  assert.deepEqual([small.text(), small.droppedChars], ["abcdefghij", 0]);
});

test("the summary says how much of each stream was dropped", () => {
  const r = execToolResult("sbx_1", [{ type: "stdout", data: "x".repeat(25) }, { type: "stderr", data: "e" }, { type: "exit", data: 0 }], 10);
  const summary = JSON.parse((r.content[0] as { text: string }).text) as Record<string, unknown>;
  assert.equal(summary["stdout_dropped_chars"], 15);
  assert.equal(summary["stderr_dropped_chars"], undefined);
});
