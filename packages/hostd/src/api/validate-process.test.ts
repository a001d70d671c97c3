// Process and PTY request checks: each wrong field is a 400 naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { parseInput, parseSelector, parseSignal, parseSize, parseStart } from "./validate.js";

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PodflareError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test("start: a command line, a program with args, a PTY with the default shell", () => {
  assert.deepEqual(parseStart({ cmd: "echo hi" }), { cmd: "echo hi" });
  assert.deepEqual(parseStart({ cmd: "ls", args: ["-l"], tag: "t1", stdin: true, user: "root" }), { cmd: "ls", args: ["-l"], tag: "t1", stdin: true });
  assert.deepEqual(parseStart({ pty: { rows: 10, cols: 20 } }), { cmd: "/bin/bash", args: ["-i", "-l"], pty: { rows: 10, cols: 20 } });
});

test("start: each wrong field is named", () => {
  rejects(() => parseStart({}), "bad_request", /cmd/);
  rejects(() => parseStart({ cmd: "x", args: [1] }), "bad_request", /args/);
  rejects(() => parseStart({ cmd: "x", env: { "A=B": "c" } }), "bad_request", /env/);
  rejects(() => parseStart({ cmd: "x", cwd: "" }), "invalid_path", /cwd/);
  rejects(() => parseStart({ cmd: "x", user: "nobody" }), "bad_request", /root/);
  rejects(() => parseStart({ cmd: "x", tag: "42" }), "bad_request", /tag/);
  rejects(() => parseStart({ cmd: "x", stdin: "yes" }), "bad_request", /stdin/);
  rejects(() => parseStart({ cmd: "x", pty: { rows: 0, cols: 1 } }), "bad_request", /rows/);
  rejects(() => parseStart({ cmd: "x", extra: 1 }), "bad_request", /extra/);
});

test("selectors, signals, sizes and input", () => {
  assert.deepEqual(parseSelector("123"), { pid: 123 });
  assert.deepEqual(parseSelector("web-1"), { tag: "web-1" });
  rejects(() => parseSelector("a/b"), "process_not_found", /pid or a tag/);
  assert.equal(parseSignal({ signal: "SIGTERM" }), 15);
  assert.equal(parseSignal({ signal: "int" }), 2);
  assert.equal(parseSignal({}), 9);
  assert.equal(parseSignal({ signal: 10 }), 10);
  rejects(() => parseSignal({ signal: "SIGFOO" }), "bad_request", /signal must be/);
  rejects(() => parseSize({ rows: 1001, cols: 1 }), "bad_request", /rows/);
  assert.deepEqual(parseInput({ data: "é" }), Buffer.from("é"));
  assert.deepEqual(parseInput({ data_base64: "AAE=" }), Buffer.from([0, 1]));
  rejects(() => parseInput({ data: "a", data_base64: "AA==" }), "bad_request", /data/);
});
