// fork(n) carries the REPL's memory and the whole filesystem into children that are full
// sandboxes of their own; writes never cross between parent, children and siblings.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { api, bash, closeSandbox, exec, execStarted, SandboxPool } from "../support/api.js";
import { fork } from "./support.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("children inherit globals, imports and heap; the answer says what is not carried", async () => {
  const id = await pool.create({ env: { FROM_CREATE: "yes" }, memory_mb: 768 });
  await exec(id, "import json, collections\nx = 41\nbig = bytearray(b'z' * 10_000_000)\nclass K:\n    v = 'klass'");
  const { children, not_carried } = await fork(id, 2);
  assert.ok(not_carried.some((s) => /processes other than the guest kernel/.test(s)), JSON.stringify(not_carried));
  assert.ok(not_carried.some((s) => /sockets and pipes/.test(s)), JSON.stringify(not_carried));
  assert.ok(not_carried.some((s) => /shared memory maps of files/.test(s)), JSON.stringify(not_carried));
  for (const c of children) {
    const r = await exec(c, "print(x + 1, json.dumps([1]), len(big), big[-1], K.v, collections.Counter('aa')['a'])");
    assert.equal(r.stdout, "42 [1] 10000000 122 klass 2\n", r.stderr);
    assert.equal((await bash(c, "hostname; echo $FROM_CREATE")).stdout, `${c}\nyes\n`);
    const info = (await (await api("GET", `/v1/sandboxes/${c}`)).json()) as { parent_id: string; applied: { memory_mb: number }; template: string };
    assert.equal(info.parent_id, id);
    assert.equal(info.applied.memory_mb, 768);
    assert.equal(info.template, "default");
  }
  // The parent carries on untouched.
  assert.equal((await exec(id, "print(x, len(big))")).stdout, "41 10000000\n");
  for (const c of children) await closeSandbox(c);
});

test("a child's memory and disk writes stay in the child; the parent's later writes stay in the parent", async () => {
  const id = await pool.create();
  await exec(id, "x = 1");
  await bash(id, "echo parent > /root/f.txt");
  const [a, b] = (await fork(id, 2)).children as [string, string];
  await exec(a, "x = 'a'");
  await bash(a, "echo a > /root/f.txt; echo only-a > /tmp/a.txt");
  await exec(id, "x = 'p2'");
  await bash(id, "echo parent2 > /root/f.txt; echo only-p > /tmp/p.txt");
  assert.equal((await exec(id, "print(x)")).stdout, "p2\n");
  assert.equal((await exec(a, "print(x)")).stdout, "a\n");
  assert.equal((await exec(b, "print(x)")).stdout, "1\n");
  assert.equal((await bash(id, "cat /root/f.txt")).stdout, "parent2\n");
  assert.equal((await bash(a, "cat /root/f.txt")).stdout, "a\n");
  assert.equal((await bash(b, "cat /root/f.txt")).stdout, "parent\n");
  for (const [sb, name] of [[b, "a"], [id, "a"], [a, "p"], [b, "p"]] as const) {
    assert.equal((await bash(sb, `test -e /tmp/${name}.txt && echo yes || echo no`)).stdout, "no\n", `${sb} sees /tmp/${name}.txt`);
  }
  await closeSandbox(a);
  await closeSandbox(b);
});

test("the snapshot is consistent: a file being written when fork comes is whole in the child", async () => {
  const id = await pool.create();
  // Written by the REPL right before fork (still in the page cache, not synced).
  await exec(id, "open('/root/data.bin', 'wb').write(b'q' * 5_000_000)");
  const [c] = (await fork(id, 1)).children as [string];
  assert.equal((await bash(c, "stat -c %s /root/data.bin")).stdout, "5000000\n");
  await closeSandbox(c);
});

test("files the REPL holds open are the child's own copy after fork", async () => {
  const id = await pool.create();
  await exec(id, "f = open('/root/log.txt', 'w')\nf.write('before\\n')\nf.flush()\nr = open('/root/in.txt', 'w+')\nr.write('abcdef')\nr.flush()\nr.seek(2)");
  const [a, b] = (await fork(id, 2)).children as [string, string];
  await exec(a, "f.write('child a\\n')\nf.flush()\nprint(r.read())");
  await exec(id, "f.write('parent\\n')\nf.flush()");
  assert.equal((await bash(id, "cat /root/log.txt")).stdout, "before\nparent\n");
  assert.equal((await bash(a, "cat /root/log.txt")).stdout, "before\nchild a\n");
  assert.equal((await bash(b, "cat /root/log.txt")).stdout, "before\n");
  assert.equal((await exec(b, "print(r.read())")).stdout, "cdef\n");
  await closeSandbox(a);
  await closeSandbox(b);
});

test("randomness is reseeded: children draw different random numbers", async () => {
  const id = await pool.create();
  await exec(id, "import random, os");
  const kids = (await fork(id, 3)).children;
  const draws = await Promise.all(kids.map(async (c) => (await exec(c, "print(random.random(), os.urandom(8).hex())")).stdout));
  assert.equal(new Set(draws).size, 3, draws.join(""));
  for (const c of kids) await closeSandbox(c);
});

test("timeout_ms interrupts a busy loop in a fork child (exit 124), which keeps its globals", async () => {
  // A cold-booted parent: its child is the forker thread's copy, the case that needs
  // guest/mainthread.py (pooled sandboxes, spawned the same way, go through the conformance cases).
  const id = await pool.create({ memory_mb: 640 });
  await exec(id, "kept = 'parent'");
  const [c] = (await fork(id, 1)).children as [string];
  await exec(c, "kept = 'child'");
  const r = await exec(c, "while True: pass", { timeout_ms: 1000 });
  assert.equal(r.exitCode, 124, r.stderr);
  assert.match(r.stderr, /was interrupted; the REPL kept its state/);
  assert.equal((await exec(c, "print(kept)")).stdout, "child\n");
  await closeSandbox(c);
});

test("fork of a fork: grandchildren carry the state of their own parent", async () => {
  const id = await pool.create();
  await exec(id, "gen = ['root']");
  const [c] = (await fork(id, 1)).children as [string];
  await exec(c, "gen.append('child')");
  const [g1, g2] = (await fork(c, 2)).children as [string, string];
  await exec(g1, "gen.append('g1')");
  assert.equal((await exec(g1, "print(gen)")).stdout, "['root', 'child', 'g1']\n");
  assert.equal((await exec(g2, "print(gen)")).stdout, "['root', 'child']\n");
  assert.equal((await exec(c, "print(gen)")).stdout, "['root', 'child']\n");
  assert.equal((await exec(id, "print(gen)")).stdout, "['root']\n");
  const info = (await (await api("GET", `/v1/sandboxes/${g1}`)).json()) as { parent_id: string };
  assert.equal(info.parent_id, c);
  for (const s of [g1, g2, c]) await closeSandbox(s);
});

test("fork waits for the exec in flight and then carries its result", async () => {
  const id = await pool.create();
  const slow = await execStarted(id, "print('started', flush=True)\nimport time\ntime.sleep(1.0)\nslow_done = True");
  const [c] = (await fork(id, 1)).children as [string];
  await slow.rest;
  assert.equal((await exec(c, "print(slow_done)")).stdout, "True\n");
  await closeSandbox(c);
});

test("after the kernel is killed by an exec timeout it is restarted in the family, and fork works from it", async () => {
  const id = await pool.create();
  const r = await exec(id, "while True: pass", { timeout_ms: 500 });
  assert.notEqual(r.exitCode, 0);
  await exec(id, "after_restart = 'yes'");
  const [c] = (await fork(id, 1)).children as [string];
  assert.equal((await exec(c, "print(after_restart)")).stdout, "yes\n");
  await closeSandbox(c);
});
