// bash in the same box: each call is a fresh process, shell variables do not carry over.
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const sb = await Sandbox.create();
try {
  const uname = (await sb.runCode("uname -a", "bash")).stdout;
  process.stdout.write(uname);
  await sb.runCode("export X=foo", "bash");
  const carried = (await sb.runCode("echo ${X:-unset}", "bash")).stdout;
  const files = (
    await sb.runCode(
      `
        mkdir -p /root/work && cd /root/work
        echo hello > a.txt
        cat a.txt | tr a-z A-Z
      `,
      "bash",
    )
  ).stdout;

  assert.ok(uname.startsWith("Linux "), uname);
  assert.equal(carried, "unset\n");
  assert.equal(files, "HELLO\n");
} finally {
  await sb.close();
}
