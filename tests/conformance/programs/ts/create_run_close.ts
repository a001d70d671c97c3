// Create, run, close: the TypeScript SDK's quickstart (state persists across calls).
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const sbx = await Sandbox.create();

await sbx.runCode("x = 42");
const out = (await sbx.runCode("print(x * 2)")).stdout;
process.stdout.write(out); // "84"

const r = await sbx.runCode("print(sum(range(10)))");
assert.equal(r.exitCode, 0);
assert.equal(r.stdout.trim(), "45");

await sbx.close();

assert.equal(out, "84\n");
assert.equal(sbx.isOpen, false);
