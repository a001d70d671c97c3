// Resource limits are enforced by the kernel: CPU share (vcpus), and a fork bomb next door
// leaves a neighbour working (its latency meanwhile is a figure of bench/limits.mjs).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { SandboxPool, bash, exec } from "../support/api.js";
import { cgroupDirs, eventually, sandboxPids } from "../support/host.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

/** Total CPU time (ms) the sandbox's cgroup has used, from cpuacct (v1) or cpu.stat (v2). */
function cpuMs(id: string): number {
  const dirs = cgroupDirs(id);
  for (const dir of dirs) {
    if (fs.existsSync(`${dir}/cpuacct.usage`)) return Number(fs.readFileSync(`${dir}/cpuacct.usage`, "utf8")) / 1e6;
  }
  for (const dir of dirs) {
    const usec = fs.existsSync(`${dir}/cpu.stat`) ? /usage_usec (\d+)/.exec(fs.readFileSync(`${dir}/cpu.stat`, "utf8"))?.[1] : undefined;
    if (usec) return Number(usec) / 1e3;
  }
  throw new Error(`no cpu accounting for ${id}`);
}

test("vcpus: 1 holds two busy processes to about one CPU", async () => {
  const id = await pool.create({ vcpus: 1 });
  const before = cpuMs(id);
  const t0 = performance.now();
  await bash(id, "for i in 1 2; do timeout 3 sh -c 'while :; do :; done' & done; wait");
  const wallMs = performance.now() - t0;
  const share = (cpuMs(id) - before) / wallMs;
  assert.ok(share < 1.25, `two busy processes used ${share.toFixed(2)} CPUs with vcpus=1`);
  assert.ok(share > 0.5, `the busy processes barely ran (${share.toFixed(2)} CPUs): the measurement is broken`);
});

test("a fork bomb next door leaves a neighbour working, and ends at its own pids limit", async () => {
  const neighbour = await pool.create({ vcpus: 1 });
  const bomb = await pool.create({ vcpus: 1 });
  await exec(neighbour, "x = 1");
  const pidsDir = cgroupDirs(bomb).find((d) => fs.existsSync(`${d}/pids.events`))!;
  fs.writeFileSync(`${pidsDir}/pids.max`, "64"); // reached at once, at little cost to the host
  await bash(bomb, "(setsid bash -c ':(){ :|:& };:' >/dev/null 2>&1 &)");
  const hits = () => Number(/^max (\d+)/m.exec(fs.readFileSync(`${pidsDir}/pids.events`, "utf8"))?.[1] ?? 0);
  await eventually(() => hits() > 0, "the fork bomb never reached its pids limit", 30_000);
  for (let i = 0; i < 5; i++) assert.equal((await exec(neighbour, "x += 1; print(x)")).stdout, `${i + 2}\n`);
  assert.ok(sandboxPids(neighbour).length < 10, "the bomb's processes reached the neighbour");
});
