import assert from "node:assert/strict";
import { test } from "node:test";
import { RichResults } from "./rich-results.js";

const body = (data: unknown) => Buffer.from(JSON.stringify(data));

test("a result frame becomes an event with exactly type, data, is_main_result", () => {
  const r = new RichResults(() => assert.fail("no note expected"));
  assert.deepEqual(r.result(true, body({ "text/plain": "1" })), { type: "result", data: { "text/plain": "1" }, is_main_result: true });
  assert.deepEqual(r.result("yes", body({ "text/plain": "2" })), { type: "result", data: { "text/plain": "2" }, is_main_result: false });
  assert.deepEqual(r.error({ name: "E", value: 3, traceback: "tb" }), { type: "error", name: "E", value: "", traceback: "tb" });
});

test("malformed and oversized results are dropped with one clear stderr note each; the per-exec total is kept", () => {
  const notes: string[] = [];
  const r = new RichResults((n) => notes.push(n), 100, 250);
  assert.equal(r.result(false, Buffer.from("not json")), undefined);
  assert.equal(r.result(false, body({ "text/plain": 1 })), undefined);
  assert.equal(r.result(false, body({ "text/plain": "x".repeat(200) })), undefined);
  assert.match(notes.at(-1)!, /exceeds the limit of 100 bytes per result and was dropped; write it to a file/);
  const ok = body({ "text/plain": "y".repeat(60) });
  assert.ok(r.result(false, ok));
  assert.ok(r.result(false, ok));
  assert.equal(r.result(false, ok), undefined);
  assert.equal(r.result(false, ok), undefined);
  assert.equal(notes.filter((n) => /exceed 250 bytes in total/.test(n)).length, 1);
  assert.equal(notes.length, 4);
});
