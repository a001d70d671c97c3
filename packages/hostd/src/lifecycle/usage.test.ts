import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore } from "../store/index.js";
import { UsageStore } from "./usage.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-usage-"));
const store = openStore(dir);
const usage = new UsageStore(store.usage);
after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("closed and running sandboxes add up, with GB-seconds by their memory", () => {
  const t0 = 1_000_000;
  usage.sandboxCreated("o1");
  usage.sandboxClosed("o1", { createdAt: t0, memoryMb: 2048 }, t0 + 10_000);
  usage.exec("o1");
  usage.exec("o1");
  usage.forks("o1", 5);
  const r = usage.report("o1", [{ createdAt: t0, memoryMb: 1024 }], t0 + 4_000);
  assert.deepEqual(r, { owner: "o1", sandboxes_created: 1, sandbox_seconds: 14, gb_seconds: 24, execs: 2, forks: 5 });
});

test("owners are separate; an unknown owner reads zeros", () => {
  usage.exec("o2");
  assert.equal(usage.report("o2", []).execs, 1);
  assert.deepEqual(usage.report("nobody", []), { owner: "nobody", sandboxes_created: 0, sandbox_seconds: 0, gb_seconds: 0, execs: 0, forks: 0 });
});
