// The persistent REPL example: named values, imports and open files survive across calls.
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const s = await Sandbox.create();
try {
  await s.runCode("x = 42; import json");
  await s.runCode(`
    cfg = {'temp': 0.7}
    f = open('/tmp/log.txt', 'w')
    f.write('first ')
  `);
  const out = (await s.runCode("print(type(x).__name__, json.dumps(cfg))")).stdout;
  await s.runCode("f.write('second'); f.close()");
  const log = (await s.runCode("print(open('/tmp/log.txt').read())")).stdout;
  const err = await s.runCode(`
    def f():
        return 1 / 0
    f()
  `);
  const after = (await s.runCode("print(x)")).stdout;

  process.stdout.write(out);
  assert.equal(out, 'int {"temp": 0.7}\n');
  assert.equal(log, "first second\n");
  assert.equal(err.exitCode, 1);
  assert.ok(err.stderr.includes("ZeroDivisionError"), err.stderr);
  assert.ok(err.stderr.includes('File "<exec>", line 4'), err.stderr); // the user's own line number
  assert.equal(after, "42\n");
} finally {
  await s.close();
}
