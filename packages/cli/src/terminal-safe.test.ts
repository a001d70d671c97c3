import { test } from "node:test";
import assert from "node:assert/strict";
import { TerminalSafe } from "./terminal-safe.js";

test("colours, newlines, tabs and text pass; OSC 52, OSC 8, DCS, cursor and title codes and C1 controls are shown escaped", () => {
  const t = new TerminalSafe();
  assert.equal(t.write("\x1b[1;31mred\x1b[0m\tok\r\n"), "\x1b[1;31mred\x1b[0m\tok\r\n");
  assert.equal(t.write("\x1b]52;c;ZWNobyBoaQ==\x07"), "\\x1b]52;c;ZWNobyBoaQ==\\x07");
  assert.equal(t.write("\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\"), "\\x1b]8;;http://evil\\x1b\\x\\x1b]8;;\\x1b\\");
  assert.equal(t.write("\x1bP$q\x1b\\"), "\\x1bP$q\\x1b\\");
  assert.equal(t.write("\x1b[2J\x1b[21t"), "\\x1b[2J\\x1b[21t");
  assert.equal(t.write("a\u009d52;c;x\u0007b"), "a\\x9d52;c;x\\x07b");
  assert.equal(t.write("日本 🙂"), "日本 🙂");
});

test("a colour code cut between chunks passes whole; an OSC cut between chunks is still escaped", () => {
  const t = new TerminalSafe();
  assert.equal(t.write("a\x1b[3"), "a");
  assert.equal(t.write("2mgreen"), "\x1b[32mgreen");
  assert.equal(t.write("\x1b"), "");
  assert.equal(t.write("]52;c;x\x07"), "\\x1b]52;c;x\\x07");
  assert.equal(t.write("tail\x1b["), "tail");
  assert.equal(t.end(), "\\x1b[");
});
