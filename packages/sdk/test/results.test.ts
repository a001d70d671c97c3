import assert from "node:assert/strict";
import { test } from "node:test";
import { ProtocolError, Result, toExecEvent } from "podflare";

test("result and error events are checked and kept with their exact fields", () => {
  assert.deepEqual(toExecEvent({ type: "result", data: { "text/plain": "1", "image/png": "iVBO" }, is_main_result: true, seq: 1, ts: 2 }), {
    type: "result",
    data: { "text/plain": "1", "image/png": "iVBO" },
    is_main_result: true,
    seq: 1,
    ts: 2,
  });
  assert.deepEqual(toExecEvent({ type: "error", name: "E", value: "v", traceback: "t", seq: 3, ts: 4 }), {
    type: "error",
    name: "E",
    value: "v",
    traceback: "t",
    seq: 3,
    ts: 4,
  });
  assert.throws(() => toExecEvent({ type: "result", data: { "text/plain": 1 } }), ProtocolError);
  assert.throws(() => toExecEvent({ type: "result", data: "x" }), ProtocolError);
});

test("Result getters name the common MIME types; json is parsed", () => {
  const r = new Result({ "text/plain": "p", "text/html": "<b>", "image/png": "UE5H", "application/json": '{"a":1}' }, false);
  assert.deepEqual([r.text, r.html, r.png, r.svg, r.isMainResult], ["p", "<b>", "UE5H", undefined, false]);
  assert.deepEqual(r.json, { a: 1 });
  assert.deepEqual(r.formats(), ["text/plain", "text/html", "image/png", "application/json"]);
});
