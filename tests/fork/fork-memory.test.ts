// fork is copy-on-write: children of a sandbox holding a big heap cost the host little until
// they write, and a child that rewrites the heap pays in its own cgroup.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeSandbox, exec, SandboxPool } from "../support/api.js";
import { hostUsedBytes, sandboxMemoryBytes, until } from "../support/host.js";
import { fork } from "./support.js";

const pool = new SandboxPool();
after(() => pool.closeAll());
const MB = 1024 * 1024;

/**
 * Host memory in use once it stopped moving (SETTLED_READINGS readings 50 ms apart within
 * SETTLED_MB of each other), so what lands just after an answer is counted where it belongs.
 */
const SETTLED_READINGS = 4;
const SETTLED_MB = 8;
async function settledHostUsedBytes(after: string): Promise<number> {
  const readings: number[] = [];
  return until(async () => {
    readings.push(hostUsedBytes());
    const last = readings.slice(-SETTLED_READINGS);
    return last.length === SETTLED_READINGS && Math.max(...last) - Math.min(...last) < SETTLED_MB * MB && last.at(-1)!;
  }, `host memory in use did not settle (${SETTLED_READINGS} readings within ${SETTLED_MB} MB) after ${after}`, 20_000);
}

test("fork(5) of a sandbox holding 500 MB adds far less than 5 x 500 MB; a child rewriting it pays in its own cgroup", async () => {
  const id = await pool.create({ memory_mb: 2048 });
  // heap[4096] is set to 0: the check below reads it after a child wrote 7 there in its copy.
  await exec(id, "import os\nheap = bytearray(os.urandom(1024 * 1024) * 500)\nheap[4096] = 0\nprint(len(heap))");
  const before = await settledHostUsedBytes("the 500 MB heap was made");
  const kids = (await fork(id, 5)).children;
  const added = (await settledHostUsedBytes("fork(5) answered")) - before;
  console.log(`host memory added by fork(5) of a 500 MB heap: ${(added / MB).toFixed(1)} MB (${(added / 5 / MB).toFixed(1)} MB per child)`);
  assert.ok(added < 250 * MB, `fork(5) added ${(added / MB).toFixed(0)} MB to the host`);
  for (const c of kids) {
    const charged = sandboxMemoryBytes(c);
    assert.ok(charged < 100 * MB, `child ${c} is charged ${(charged / MB).toFixed(0)} MB before writing`);
  }
  const [writer] = kids as [string];
  assert.equal((await exec(writer, "for i in range(0, len(heap), 4096):\n    heap[i] = 7\nprint(heap[4096])")).stdout, "7\n");
  const paid = sandboxMemoryBytes(writer);
  console.log(`child cgroup after rewriting the heap: ${(paid / MB).toFixed(0)} MB`);
  assert.ok(paid > 400 * MB, `the writer's cgroup shows only ${(paid / MB).toFixed(0)} MB`);
  // The parent's heap is untouched by the child's writes.
  assert.equal((await exec(id, "print(heap[4096] == 7)")).stdout, "False\n");
  for (const c of kids) await closeSandbox(c);
});

test("the REPL's heap is in transparent huge pages (cheap fork of big heaps); user code does not inherit the setting", async () => {
  const thp = (await import("node:fs")).readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8");
  assert.match(thp, /\[(always|madvise)\]/, `this host has transparent huge pages off (${thp.trim()}): fork of a big heap copies every page table entry`);
  const id = await pool.create({ memory_mb: 1024 });
  const r = await exec(id, [
    "import os",
    "heap = bytearray(os.urandom(1024 * 1024) * 64)",
    "huge = [l for l in open('/proc/self/smaps_rollup') if l.startswith('AnonHugePages:')][0].split()[1]",
    "print(int(huge) // 1024, 'GLIBC_TUNABLES' in os.environ, 'PODFLARE_KERNEL_ONLY_ENV' in os.environ)",
  ].join("\n"));
  const [hugeMb, inEnv, markerInEnv] = r.stdout.trim().split(" ");
  assert.ok(Number(hugeMb) >= 32, `only ${hugeMb} MB of a 64 MB heap is in huge pages: ${r.stdout}${r.stderr}`);
  assert.equal(inEnv, "False");
  assert.equal(markerInEnv, "False");
  assert.equal((await exec(id, "env | grep -c GLIBC_TUNABLES || true", { language: "bash" })).stdout, "0\n");
  // A user's own setting is theirs: kept, and passed on.
  const own = await pool.create({ env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" } });
  assert.equal((await exec(own, "echo $GLIBC_TUNABLES", { language: "bash" })).stdout, "glibc.malloc.arena_max=2\n");
  await closeSandbox(own);
  await closeSandbox(id);
});
