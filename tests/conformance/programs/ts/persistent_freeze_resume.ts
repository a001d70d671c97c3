// persistent + freeze + resume: a Space keeps the REPL state and the files.
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const sb = await Sandbox.create({ persistent: true });
await sb.runCode(`
  x = 42
  open('/root/notes.txt', 'w').write('kept')
`);
const spaceId = await sb.freeze();

const later = await Sandbox.resume(spaceId);
let out: string;
try {
  out = (await later.runCode("print(x, open('/root/notes.txt').read())")).stdout;
} finally {
  await later.close();
}

process.stdout.write(out);
assert.equal(out, "42 kept\n");
