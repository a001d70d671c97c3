// Invariants of fork between parent, children and siblings: closing one leaves the others
// working; nobody sees or signals another's processes; a parent kernel cannot reach its
// children by pid, /proc or pidfd.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { bash, closeSandbox, exec, SandboxPool } from "../support/api.js";
import { fork, probeSignals } from "./support.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("closing the parent leaves every child working, and closing a child leaves the parent working", async () => {
  const p1 = await pool.create();
  await exec(p1, "v = 'kept'");
  const [a, b] = (await fork(p1, 2)).children as [string, string];
  await closeSandbox(p1);
  for (const c of [a, b]) {
    assert.equal((await exec(c, "print(v)")).stdout, "kept\n");
    assert.equal((await bash(c, "echo ok; sleep 0.1 & wait")).stdout, "ok\n");
  }
  // A child of a closed parent can still fork.
  const [g] = (await fork(a, 1)).children as [string];
  assert.equal((await exec(g, "print(v)")).stdout, "kept\n");
  for (const c of [a, b, g]) await closeSandbox(c);

  const p2 = await pool.create();
  await exec(p2, "w = 2");
  const [c2] = (await fork(p2, 1)).children as [string];
  await closeSandbox(c2);
  assert.equal((await exec(p2, "print(w * 2)")).stdout, "4\n");
  assert.equal((await bash(p2, "echo fine")).stdout, "fine\n");
});

test("siblings and parent cannot see each other's processes or files", async () => {
  const p = await pool.create();
  await bash(p, "sleep 3001 >/dev/null 2>&1 &");
  const [a, b] = (await fork(p, 2)).children as [string, string];
  await bash(a, "sleep 3002 >/dev/null 2>&1 & echo secret-a > /root/secret");
  await bash(b, "sleep 3003 >/dev/null 2>&1 &");
  await bash(p, "sleep 3004 >/dev/null 2>&1 &");
  const seen = async (sb: string) => (await bash(sb, "ps -e -o args= | grep -o 'sleep 300[0-9]' | sort | tr '\\n' ' '")).stdout.trim();
  assert.equal(await seen(p), "sleep 3001 sleep 3004");
  assert.equal(await seen(a), "sleep 3002");
  assert.equal(await seen(b), "sleep 3003");
  assert.equal((await bash(b, "cat /root/secret 2>&1; ls /proc/*/root/root/secret 2>/dev/null; true")).stdout.includes("secret-a"), false);
  // The children's ps shows nothing but their own kernel and tools.
  const procs = (await bash(a, "ps -e -o comm=")).stdout.trim().split("\n").map((s) => s.trim());
  for (const comm of procs) assert.ok(["python3", "bash", "ps", "sleep"].includes(comm), `foreign process ${comm} in a child`);
  for (const c of [a, b]) await closeSandbox(c);
});

test("a parent kernel cannot signal, see or enter a child's processes: every pid tried", async () => {
  const p = await pool.create();
  const [a, b] = (await fork(p, 2)).children as [string, string];
  const victims = [];
  for (const c of [a, b]) {
    const pid = Number((await bash(c, "sleep 4000 >/dev/null 2>&1 & echo $!")).stdout.trim());
    victims.push({ c, pid });
  }
  // Parent REPL code: signal 0 to every pid, from the REPL itself and from a subprocess.
  const fromRepl = JSON.parse((await exec(p, probeSignals())).stdout) as { foreign_ok: number[]; denied: number };
  assert.deepEqual(fromRepl.foreign_ok, [], "the parent's REPL could signal a process it does not own");
  assert.ok(fromRepl.denied > 0, "expected the family's other processes to answer EPERM");
  const sub = await bash(p, `python3 - <<'EOF'\n${probeSignals()}\nEOF`);
  assert.deepEqual((JSON.parse(sub.stdout) as { foreign_ok: number[] }).foreign_ok, []);
  // pidfd + setns into a child's namespaces, and /proc of its processes.
  const enter = await exec(p, `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
entered, opened = [], []
own = set(int(t) for t in os.listdir('/proc/self/task')) | set(int(d) for d in os.listdir('/proc') if d.isdigit())
for pid in range(2, 2048):
    if pid in own:
        continue
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        continue
    if libc.setns(fd, 0x00020000 | 0x40000000) == 0:
        entered.append(pid)
    os.close(fd)
    try:
        open(f'/proc/{pid}/cmdline').read()
        opened.append(pid)
    except OSError:
        pass
print(entered, opened)`);
  assert.equal(enter.stdout, "[] []\n", enter.stderr);
  // Children cannot reach the parent's or each other's processes either.
  const fromChild = JSON.parse((await exec(a, probeSignals())).stdout) as { foreign_ok: number[] };
  assert.deepEqual(fromChild.foreign_ok, []);
  // Nothing was killed.
  for (const { c, pid } of victims) {
    assert.equal((await bash(c, `kill -0 ${pid} && echo alive`)).stdout, "alive\n");
  }
  await exec(p, `import os
own = set(int(t) for t in os.listdir('/proc/self/task')) | set(int(d) for d in os.listdir('/proc') if d.isdigit())
for pid in range(2, 2048):
    if pid in own:
        continue
    try:
        os.kill(pid, 9)
    except OSError:
        pass`);
  for (const { c, pid } of victims) {
    assert.equal((await bash(c, `kill -0 ${pid} && echo alive`)).stdout, "alive\n", "the parent killed a child's process");
    assert.equal((await exec(c, "print('kernel alive')")).stdout, "kernel alive\n");
  }
  for (const c of [a, b]) await closeSandbox(c);
});
