// Resource limits are enforced by the kernel: CPU share (vcpus) and pids, while a neighbour's
// exec latency stays within its usual range.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { SandboxPool, bash, exec } from "../support/api.js";
import { cgroupDirs } from "../support/host.js";

const pool = new SandboxPool();
let neighbour: string;

before(async () => {
  neighbour = await pool.create({ vcpus: 1 });
});
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

async function latencies(id: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await exec(id, "print(1)");
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
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

test("a fork bomb next door leaves a neighbour's exec latency in its usual range", async () => {
  const usual = await latencies(neighbour, 20);
  const bomb = await pool.create({ vcpus: 1 });
  const bombing = bash(bomb, "timeout 6 bash -c ':(){ :|:& };:' 2>/dev/null; sleep 6", { timeout_ms: 20000 });
  await new Promise((r) => setTimeout(r, 1500));
  const during = await latencies(neighbour, 20);
  await bombing;
  const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  assert.ok(p50(during) < Math.max(50, p50(usual) * 10), `neighbour p50 went from ${p50(usual).toFixed(1)} ms to ${p50(during).toFixed(1)} ms`);
});
