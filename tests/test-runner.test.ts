// The test runner's own safety nets (scripts/): the sweep of what killed test processes left
// (storage pools and jail work dirs still mounted, jail sandboxes still running), and the hang
// report printed when a run goes quiet. Real mounts, cgroups and processes; needs root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CgroupManager } from "@podflare/hostd/jail";
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

test("the sweep kills the sandboxes of a jail test whose process is gone and removes its groups; a live one's stay", async (t) => {
  assert.equal(process.getuid?.(), 0, "needs root: cgroups");
  const { sweepJailCgroups } = await load("test-leftovers.mjs");
  const limits = { memoryMb: 64, vcpus: 1, pidsMax: 16 };
  const gone = new CgroupManager({ parent: `podflare-test-jail-${deadPid()}` });
  const live = new CgroupManager({ parent: `podflare-test-jail-${process.pid}` });
  const sleeper = spawn("sleep", ["600"], { stdio: "ignore" });
  t.after(async () => {
    sleeper.kill("SIGKILL");
    for (const cg of [gone, live]) {
      for (const id of cg.listIds()) {
        await cg.killAll(id);
        await cg.remove(id);
      }
      cg.removeParentIfEmpty();
    }
  });
  gone.create("sbx_sweep_gone", limits);
  for (const f of gone.procsFiles("sbx_sweep_gone")) fs.writeFileSync(f, String(sleeper.pid));
  live.create("sbx_sweep_live", limits);
  assert.deepEqual(gone.pids("sbx_sweep_gone"), [sleeper.pid]);

  const lines: string[] = [];
  const swept: string[] = await sweepJailCgroups((l: string) => lines.push(l));

  assert.deepEqual(swept, [gone.dirs("x").map((d) => path.basename(path.dirname(d)))[0]]);
  await eventually(() => sleeper.exitCode !== null || sleeper.signalCode !== null, "the abandoned sandbox's process is killed");
  assert.deepEqual(gone.listIds(), []);
  assert.ok(gone.dirs("x").every((d) => !fs.existsSync(path.dirname(d))), "the abandoned parent group is removed");
  assert.deepEqual(live.listIds(), ["sbx_sweep_live"], "a live test's groups are left alone");
  assert.match(lines.join("\n"), /removed cgroup podflare-test-jail-\d+ and its 1 sandbox group/);
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
