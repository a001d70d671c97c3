// The minimum program, as Podflare's introduction writes it (TypeScript SDK).
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const sb = await Sandbox.create();
let out: string;
try {
  out = (await sb.runCode("print('hello from a sandbox')")).stdout;
  process.stdout.write(out);
} finally {
  await sb.close();
}

assert.equal(out, "hello from a sandbox\n");
