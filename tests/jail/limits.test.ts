// Attacks on the cgroup limits: memory exhaustion and a fork bomb stay inside the sandbox's
// group, and the group can always be killed and removed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { JailFixture, lines, sleep } from "./helpers.js";
import { isAlive } from "./jail.js";

describe("jail limits", () => {
  let fx: JailFixture;

  before(() => {
    fx = new JailFixture();
  });

  after(async () => {
    await fx?.cleanup();
  });

  /** A file of the sandbox's group for a controller (v1: that hierarchy; v2: the one dir). */
  function cgFile(id: string, controller: string, file: string): string {
    const dirs = fx.cg.dirs(id);
    const dir = fx.cg.version === 2 ? dirs[0] : dirs.find((d) => d.includes(`/${controller}/`));
    assert.ok(dir, `no ${controller} group for ${id}`);
    return path.join(dir, file);
  }

  test("limits are written to the group", async () => {
    const sb = await fx.launch({ limits: { memoryMb: 96, vcpus: 1.5, pidsMax: 77 } });
    const read = (c: string, f: string) => fs.readFileSync(cgFile(sb.id, c, f), "utf8").trim();
    if (fx.cg.version === 2) {
      assert.equal(read("memory", "memory.max"), String(96 * 1024 * 1024));
      assert.equal(read("cpu", "cpu.max"), "150000 100000");
    } else {
      assert.equal(read("memory", "memory.limit_in_bytes"), String(96 * 1024 * 1024));
      assert.equal(read("cpu", "cpu.cfs_quota_us"), "150000");
      assert.equal(read("cpu", "cpu.cfs_period_us"), "100000");
    }
    assert.equal(read("pids", "pids.max"), "77");
    await fx.destroy(sb.id);
  });

  test("a 64 MB sandbox allocating 512 MB is OOM-killed, and only that process", async () => {
    const sb = await fx.launch({ limits: { memoryMb: 64 } });
    const before = fx.cg.oomKillCount(sb.id);
    const r = await fx.run(sb, ["/usr/bin/python3", "-c", "x = b'a' * (512 << 20); print('allocated')"]);
    assert.notEqual(r.code, 0);
    assert.equal(r.code, 137, `expected SIGKILL, got ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /allocated/);
    assert.ok(fx.cg.oomKillCount(sb.id) > before, "oom_kill counter did not move");
    assert.ok(fx.cg.memoryCurrentBytes(sb.id) <= 64 * 1024 * 1024);
    // Contained: the host (this process) and the sandbox itself live on.
    assert.ok(isAlive(sb.initPid, sb.initStartTime), "the sandbox init died with the OOM");
    const again = await fx.sh(sb, "echo still here");
    assert.equal(again.stdout.trim(), "still here");
    await fx.destroy(sb.id);
  });

  test("a fork bomb cannot exceed pids.max, and killAll empties the group", async () => {
    const sb = await fx.launch({ limits: { pidsMax: 64 } });
    await fx.start(sb, ["/usr/bin/timeout", "-s", "KILL", "20", "/bin/bash", "-c", ":(){ :|:& };:"]);
    let peak = 0;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      peak = Math.max(peak, fx.cg.pidsCurrent(sb.id));
      await sleep(10);
    }
    assert.ok(peak <= 64, `pids.current reached ${peak}`);
    assert.ok(peak >= 32, `the bomb never got going (peak ${peak})`);
    const events = fs.readFileSync(cgFile(sb.id, "pids", "pids.events"), "utf8");
    assert.ok(Number(/^max (\d+)/m.exec(events)?.[1] ?? 0) > 0, `pids.max never hit: ${events}`);
    const started = Date.now();
    await fx.cg.killAll(sb.id);
    assert.deepEqual(fx.cg.pids(sb.id), []);
    assert.ok(!isAlive(sb.initPid, sb.initStartTime));
    assert.ok(Date.now() - started < 5000, "killAll took too long");
    await fx.cg.remove(sb.id);
    for (const d of fx.cg.dirs(sb.id)) assert.ok(!fs.existsSync(d), `${d} left behind`);
    await fx.cg.remove(sb.id); // idempotent
  });

  test("the host still forks freely after the bomb", async () => {
    const sb = await fx.launch();
    const r = await fx.sh(sb, "for i in $(seq 20); do /bin/true & done; wait; echo done");
    assert.deepEqual(lines(r.stdout), ["done"]);
    await fx.destroy(sb.id);
  });
});
