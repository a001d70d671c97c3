import assert from "node:assert/strict";
import { test } from "node:test";
import { ExecuteTranslator, type OurEvent } from "./execute-translate.js";

function run(language: "python" | "bash", events: OurEvent[]): Record<string, unknown>[] {
  const t = new ExecuteTranslator(language);
  return [...events.flatMap((e) => t.event(e)), ...t.end()];
}

test("output lines become stdout/stderr text with microsecond timestamps, then end_of_execution", () => {
  const out = run("python", [
    { type: "stdout", data: "a\n", seq: 0, ts: 5 } as OurEvent,
    { type: "stderr", data: "b\n", seq: 1, ts: 6 } as OurEvent,
    { type: "exit", data: 0, seq: 2, ts: 7 } as OurEvent,
  ]);
  assert.deepEqual(out, [
    { type: "stdout", text: "a\n", timestamp: 5000 },
    { type: "stderr", text: "b\n", timestamp: 6000 },
    { type: "end_of_execution" },
  ]);
});

test("a rich result maps each MIME type to the code interpreter's format key; unknown types pass by name", () => {
  const out = run("python", [
    { type: "result", data: { "text/plain": "   a\n0  1", "text/html": "<table/>", "image/png": "iVBOR", "application/vnd.custom+json": { x: 1 } }, is_main_result: true },
    { type: "result", data: { "text/plain": "<Figure>" }, is_main_result: false },
    { type: "exit", data: 0 },
  ]);
  assert.deepEqual(out[0], { type: "result", is_main_result: true, text: "   a\n0  1", html: "<table/>", png: "iVBOR", "application/vnd.custom+json": { x: 1 } });
  assert.deepEqual(out[1], { type: "result", is_main_result: false, text: "<Figure>" });
});

test("an error event is passed as name/value/traceback, and no second error is made from the exit code", () => {
  const out = run("python", [
    { type: "stderr", data: "Traceback...\n" },
    { type: "error", name: "ZeroDivisionError", value: "division by zero", traceback: ["Traceback (most recent call last):\n", "ZeroDivisionError: division by zero\n"] },
    { type: "exit", data: 1 },
  ]);
  assert.deepEqual(out.slice(1), [
    { type: "error", name: "ZeroDivisionError", value: "division by zero", traceback: "Traceback (most recent call last):\nZeroDivisionError: division by zero\n" },
    { type: "end_of_execution" },
  ]);
  assert.equal(run("python", [{ type: "error", name: "E", value: "v", traceback: ["a", "b"] }, { type: "exit", data: 1 }])[0]!.traceback, "a\nb");
});

test("without an error event, a failed Python exec gives the traceback's last line as name and value", () => {
  const out = run("python", [
    { type: "stderr", data: "Traceback (most recent call last):\n" },
    { type: "stderr", data: "NameError: name 'y' is not defined\n" },
    { type: "exit", data: 1 },
  ]);
  assert.deepEqual(out[2], {
    type: "error",
    name: "NameError",
    value: "name 'y' is not defined",
    traceback: "Traceback (most recent call last):\nNameError: name 'y' is not defined\n",
  });
});

test("hostd's own exit codes and bash failures are errors an agent can read", () => {
  assert.equal(run("python", [{ type: "exit", data: 124 }])[0]!.name, "TimeoutError");
  assert.equal(run("python", [{ type: "exit", data: 137 }])[0]!.name, "KernelRestarted");
  // A killed REPL whose note says why: that reason, not "restarted".
  const closed = run("python", [{ type: "stderr", data: "\nSandboxClosed: the sandbox was closed while this code ran; create a new sandbox to go on.\n" }, { type: "exit", data: 137 }]);
  assert.deepEqual([closed[1]!.name, closed[1]!.value], ["SandboxClosed", "the sandbox was closed while this code ran; create a new sandbox to go on."]);
  const oom = run("python", [{ type: "stderr", data: "\nMemoryError: the sandbox ran out of memory (limit 512 MB)\n" }, { type: "exit", data: 137 }]);
  assert.equal(oom[1]!.name, "MemoryError");
  assert.deepEqual(run("bash", [{ type: "stderr", data: "no\n" }, { type: "exit", data: 3 }])[1], {
    type: "error",
    name: "CommandExitError",
    value: "exit status 3",
    traceback: "no\n",
  });
  assert.equal(run("python", [{ type: "exit", data: 2 }])[0]!.name, "SystemExit");
});

test("a stream cut before exit ends with unexpected_end_of_execution; unknown event types are skipped", () => {
  assert.deepEqual(run("python", [{ type: "stdout", data: "x" }, { type: "progress", data: 1 }]), [
    { type: "stdout", text: "x", timestamp: 0 },
    { type: "unexpected_end_of_execution" },
  ]);
});

test("with a counter, the exit brings number_of_executions before end_of_execution (Execution.executionCount)", () => {
  let n = 6;
  const t = new ExecuteTranslator("python", () => ++n);
  assert.deepEqual(t.event({ type: "exit", data: 0 }), [{ type: "number_of_executions", execution_count: 7 }, { type: "end_of_execution" }]);
});
