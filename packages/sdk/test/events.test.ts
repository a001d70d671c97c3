import assert from "node:assert/strict";
import { test } from "node:test";
import { NdjsonDecoder, ProtocolError, toExecEvent, type ExecEvent } from "podflare";

const events: ExecEvent[] = [
  { type: "stdout", data: "héllo wörld ✓ 🎉\n", seq: 0, ts: 1 },
  { type: "stderr", data: "warn: \"quoted\" \\ backslash\n", seq: 1, ts: 2 },
  { type: "stdout", data: "no newline at the end", seq: 2, ts: 3 },
  { type: "exit", data: 0, seq: 3, ts: 4 },
];
const wire = Buffer.from(events.map((e) => JSON.stringify(e) + "\n").join(""), "utf8");

test("decodes NDJSON cut at every byte boundary, multi-byte characters included", () => {
  for (let cut = 0; cut <= wire.length; cut++) {
    const dec = new NdjsonDecoder();
    const out = [...dec.push(wire.subarray(0, cut)), ...dec.push(wire.subarray(cut)), ...dec.end()];
    assert.deepEqual(out, events, `cut at ${cut}`);
  }
});

test("decodes NDJSON fed one byte at a time", () => {
  const dec = new NdjsonDecoder();
  const out: unknown[] = [];
  for (let i = 0; i < wire.length; i++) out.push(...dec.push(wire.subarray(i, i + 1)));
  out.push(...dec.end());
  assert.deepEqual(out, events);
});

test("a last line without newline is parsed by end(); blank lines are skipped", () => {
  const dec = new NdjsonDecoder();
  assert.deepEqual(dec.push(Buffer.from('\n{"a":1}\n\n{"a":2}')), [{ a: 1 }]);
  assert.deepEqual(dec.end(), [{ a: 2 }]);
  assert.deepEqual(dec.end(), []);
});

test("a line that is not JSON is a ProtocolError", () => {
  const dec = new NdjsonDecoder();
  assert.throws(() => dec.push(Buffer.from("<html>oops</html>\n")), ProtocolError);
});

test("toExecEvent checks shapes and skips unknown event types", () => {
  assert.deepEqual(toExecEvent({ type: "exit", data: 3, seq: 9, ts: 10 }), { type: "exit", data: 3, seq: 9, ts: 10 });
  assert.equal(toExecEvent({ type: "progress", data: 0.5 }), undefined);
  assert.throws(() => toExecEvent({ type: "stdout", data: 5 }), ProtocolError);
  assert.throws(() => toExecEvent({ type: "exit", data: "0" }), ProtocolError);
  assert.throws(() => toExecEvent(42), ProtocolError);
});
