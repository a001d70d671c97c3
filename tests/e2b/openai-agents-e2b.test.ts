// The OpenAI Agents SDK's E2B sandbox client (`@openai/agents-extensions/sandbox/e2b`) against
// hostd: its session's command and file operations, driven directly. No model is called, so
// nothing leaves the machine (only the sandbox client runs; it talks to hostd through `e2b`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Manifest } from "@openai/agents-core/sandbox";
import { E2BSandboxClient, type E2BSandboxSession } from "@openai/agents-extensions/sandbox/e2b";
import { api } from "../support/api.js";
import { eventually } from "../support/host.js";
import { pointE2bAt } from "./support.js";

let session: E2BSandboxSession;

before(async () => {
  pointE2bAt();
  const client = new E2BSandboxClient({ template: "base" });
  session = await client.create(new Manifest({ root: "/workspace", entries: { "hello.txt": { type: "file", content: "hello from the manifest\n" } } }));
});
after(async () => {
  await session?.delete();
});

test("the client creates a Podflare sandbox and materializes its manifest in it", async () => {
  const id = session.state.sandboxId;
  assert.match(id, /^sbx_[0-9a-f]{32}$/);
  const res = await api("GET", `/v1/sandboxes/${id}/files?path=/workspace/hello.txt`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello from the manifest\n");
});

test("execCommand runs in the workspace root and reports output and exit code", async () => {
  const ok = await session.execCommand({ cmd: "pwd; cat hello.txt; echo $((6*7))" });
  assert.match(ok, /\/workspace\nhello from the manifest\n42/);
  assert.match(ok, /Process exited with code 0/);
  const failed = await session.execCommand({ cmd: "echo oops >&2; exit 5" });
  assert.match(failed, /oops/);
  assert.match(failed, /Process exited with code 5/);
});

test("execCommand with tty runs on an E2B PTY, and writeStdin answers it", async () => {
  const first = await session.execCommand({ cmd: "read x; echo got-$x", tty: true, yieldTimeMs: 200 });
  const id = /Process running with session ID (\d+)/.exec(first)?.[1];
  assert.ok(id, first);
  let output = await session.writeStdin({ sessionId: Number(id), chars: "abc\n", yieldTimeMs: 200 });
  await eventually(async () => {
    if (/got-abc/.test(output)) return true;
    output += await session.writeStdin({ sessionId: Number(id), chars: "", yieldTimeMs: 200 });
    return /got-abc/.test(output);
  }, "the PTY command's answer", 15000);
});

test("readFile, pathExists and the editor's create, update and delete", async () => {
  assert.equal(new TextDecoder().decode(await session.readFile({ path: "hello.txt" })), "hello from the manifest\n");
  assert.equal(await session.pathExists("hello.txt"), true);
  assert.equal(await session.pathExists("nope.txt"), false);
  const editor = session.createEditor();
  await editor.createFile({ type: "create_file", path: "src/new.py", diff: "+print('hi')\n" });
  assert.equal(await session.execCommand({ cmd: "python3 src/new.py" }).then((o) => /hi/.test(o)), true);
  await editor.updateFile({ type: "update_file", path: "src/new.py", diff: "@@\n-print('hi')\n+print('bye')\n" });
  assert.match(new TextDecoder().decode(await session.readFile({ path: "src/new.py" })), /bye/);
  await editor.deleteFile({ type: "delete_file", path: "src/new.py" });
  assert.equal(await session.pathExists("src/new.py"), false);
});
