// The test runner's own safety nets (scripts/): the sweep of storage pools left mounted by killed
// test processes, and the hang report printed when a run goes quiet. Real mounts and real
// processes; needs root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { eventually } from "./support/host.js";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const load = (file: string) => import(pathToFileURL(path.join(root, "scripts", file)).href);

function mounted(p: string): boolean {
  return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === p);
}

/** A pid that has certainly ended: a child we waited for. */
function deadPid(): number {
  const r = spawnSync("true");
  assert.equal(r.status, 0);
  return r.pid!;
}

test("the sweep unmounts and removes a test pool whose process is gone, and keeps one whose process lives", async (t) => {
  assert.equal(process.getuid?.(), 0, "needs root: the sweep unmounts");
  const { sweepTestLeftovers } = await load("test-leftovers.mjs");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pf-sweep-"));
  t.after(() => {
    for (const d of fs.readdirSync(tmp)) if (mounted(path.join(tmp, d, "pool"))) spawnSync("umount", ["--lazy", path.join(tmp, d, "pool")]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const make = (name: string, owner: number) => {
    const dir = path.join(tmp, `podflare-test-storage-${name}`);
    fs.mkdirSync(path.join(dir, "pool"), { recursive: true });
    fs.writeFileSync(path.join(dir, "owner.pid"), `${owner}\n`);
    assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", path.join(dir, "pool")]).status, 0);
    return dir;
  };
  const abandoned = make("gone", deadPid());
  const live = make("live", process.pid);
  const other = path.join(tmp, "not-a-test-pool");
  fs.mkdirSync(other);

  const lines: string[] = [];
  const removed = sweepTestLeftovers(tmp, (l: string) => lines.push(l));

  assert.deepEqual(removed, [abandoned]);
  assert.equal(fs.existsSync(abandoned), false);
  assert.equal(mounted(path.join(abandoned, "pool")), false);
  assert.ok(mounted(path.join(live, "pool")), "the pool of a live process is left alone");
  assert.ok(fs.existsSync(other));
  assert.match(lines.join("\n"), /removed .*podflare-test-storage-gone/);
});

test("the hang report names each process of the run with its wait channel, and a test file's threads and files", async (t) => {
  assert.equal(process.getuid?.(), 0, "needs root: kernel stacks and other processes' fds");
  const { hangReport } = await load("hang-report.mjs");
  // A "test file" stuck reading a socket nobody writes to: what a hung test looks like from
  // outside. Its command line has a line break, which must not break the report's lines.
  const script = "require('node:fs')\n  .readSync(0, Buffer.alloc(1));";
  const child = spawn(process.execPath, ["-e", script, "stuck.test.js"], { stdio: ["pipe", "ignore", "ignore"] });
  t.after(() => child.kill("SIGKILL"));
  const wchan = () => fs.readFileSync(`/proc/${child.pid}/wchan`, "utf8");
  await eventually(() => /unix_stream_read|sk_wait/.test(wchan()), "the child blocks reading its stdin", 10_000);

  const report: string = hangReport(process.pid);

  assert.ok(report.split("\n").every((l) => l === "" || l.startsWith("# ")), "every line is a comment in the test output");
  assert.match(report, new RegExp(`^# \\s*${process.pid} \\S+ wchan=`, "m"));
  assert.match(report, new RegExp(`^# \\s+${child.pid} S wchan=${wchan()} .*stuck\\.test\\.js`, "m"));
  assert.match(report, new RegExp(`thread ${child.pid} node S wchan=${wchan()}\n#\\s+\\S`), "the main thread, with its kernel stack");
  assert.match(report, /fd 0 -> socket:\[\d+\]/);
});
