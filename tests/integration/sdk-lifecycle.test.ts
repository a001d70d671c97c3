// Issue 4's SDK surface against the real hostd: persistent create, freeze, resume of a Space,
// pause/resume and timeout — through the TypeScript SDK and the Python SDK.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "podflare";
import { hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

test("ts: create persistent → freeze → Sandbox.resume brings globals and files back; pause, resume, setTimeout", async () => {
  const sb = await Sandbox.create({ host: hostdUrl(), persistent: true });
  assert.equal(sb.applied?.persistent, true);
  await sb.runCode("kept = {'a': [1, 2, 3]}");
  await sb.upload("file body", "/root/f.txt");
  await sb.pause();
  await sb.resume();
  await sb.setTimeout(600);
  const spaceId = await sb.freeze();
  assert.match(spaceId, /^spc_/);
  const back = await Sandbox.resume(spaceId, { host: hostdUrl() });
  assert.equal((await back.runCode("print(kept['a'][2])")).stdout, "3\n");
  assert.equal(new TextDecoder().decode(await back.download("/root/f.txt")), "file body");
  await back.close();
  await assert.rejects(Sandbox.resume(spaceId, { host: hostdUrl() }), (e: Error & { status?: number }) => e.status === 404);
});

test("py: Sandbox(persistent=True) → freeze() → Sandbox.resume(space_id)", () => {
  const script = [
    "from podflare import Sandbox",
    "sb = Sandbox(persistent=True)",
    "sb.run_code('kept = 41')",
    "space = sb.freeze()",
    "back = Sandbox.resume(space)",
    "print(back.run_code('print(kept + 1)').stdout, end='')",
    "back.close()",
  ].join("\n");
  const r = runPythonSdk(script, hostdUrl());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "42\n");
});
