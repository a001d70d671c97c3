// Tables the listing commands print (pure formatting).
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, printable } from "./table.js";

test("cells with control characters print escaped, and columns still line up", () => {
  assert.equal(printable("ci\x1b[2J\n\x9b\x7f"), "ci\\x1b[2J\\x0a\\x9b\\x7f");
  assert.equal(printable("a\\x1b"), "a\\\\x1b", "a backslash is doubled, so an escape is never ambiguous");
  assert.equal(printable("équipe ✓"), "équipe ✓");
  const lines = formatTable([["NAME", "TIER"], ["a\rb", "pro"], ["plain", "free"]]);
  assert.deepEqual(lines, ["NAME    TIER", "a\\x0db  pro", "plain   free"]);
  assert.ok(lines.every((l) => !/[\x00-\x1f]/.test(l)));
});
