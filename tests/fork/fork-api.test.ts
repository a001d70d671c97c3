// fork and merge_into through the API: argument errors, merge semantics, the SDKs.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { api, bash, closeSandbox, exec, hostdUrl, SandboxPool } from "../support/api.js";
import { fork, forkStatus, mergeInto } from "./support.js";
import { eventually } from "../support/host.js";
import { Sandbox } from "podflare";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("fork: n must be 1 to 32; unknown sandboxes answer 404", async () => {
  const id = await pool.create();
  for (const n of [0, 33, -1, 1.5, "2"]) {
    const r = await forkStatus(id, { n });
    assert.equal(r.status, 400, `n=${JSON.stringify(n)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, "bad_request");
    assert.match(r.body.error ?? "", /n must be an integer from 1 to 32/);
  }
  const missing = await forkStatus("sbx_00000000000000000000000000000000", { n: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, "sandbox_not_found");
});

test("merge_into: the parent id takes the winner's REPL and files; the winner id is retired; siblings keep running", async () => {
  const p = await pool.create();
  await exec(p, "score = 0");
  await bash(p, "echo base > /root/f");
  const [a, b] = (await fork(p, 2)).children as [string, string];
  await exec(a, "score = 10");
  await bash(a, "echo from-a > /root/f");
  await exec(b, "score = 5");
  const m = await mergeInto(p, a);
  assert.equal(m.status, 204, m.text);
  assert.equal((await exec(p, "print(score)")).stdout, "10\n");
  assert.equal((await bash(p, "cat /root/f")).stdout, "from-a\n");
  assert.equal((await api("GET", `/v1/sandboxes/${a}`)).status, 404);
  assert.equal((await api("POST", `/v1/sandboxes/${a}/exec`, { code: "1" })).status, 404);
  assert.equal((await exec(b, "print(score)")).stdout, "5\n");
  // Merged again with the same winner: the winner is gone.
  assert.equal((await mergeInto(p, a)).status, 404);
  // The merged parent forks like any sandbox; the new children carry the winner's state.
  const [c] = (await fork(p, 1)).children as [string];
  assert.equal((await exec(c, "print(score)")).stdout, "10\n");
  const info = (await (await api("GET", `/v1/sandboxes/${c}`)).json()) as { parent_id: string };
  assert.equal(info.parent_id, p);
  // A grandchild can be merged into its grandparent.
  const [g] = (await fork(c, 1)).children as [string];
  await exec(g, "score = 99");
  assert.equal((await mergeInto(p, g)).status, 204);
  assert.equal((await exec(p, "print(score)")).stdout, "99\n");
  assert.equal((await exec(c, "print(score)")).stdout, "10\n");
  for (const s of [b, c]) await closeSandbox(s);
});

test("merge_into keeps the parent's lifetime: its max_lifetime_s and end count from its own creation (each merge cut them by the parent's age at the fork)", async () => {
  const p = await pool.create({ max_lifetime_s: 600 });
  const applied = async (id: string) => ((await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { created_at: string; applied: { max_lifetime_s: number; lifetime_s?: number } });
  const created = Date.parse((await applied(p)).created_at);
  // No wait needed: a child gets what is left of its parent's, rounded down (599 s at most).
  const [a] = (await fork(p, 1)).children as [string];
  assert.ok((await applied(a)).applied.max_lifetime_s < 600, "a child gets what is left of its parent's");
  assert.equal((await mergeInto(p, a)).status, 204);
  const merged = (await applied(p)).applied;
  assert.equal(merged.max_lifetime_s, 600, JSON.stringify(merged));
  assert.equal(merged.lifetime_s, undefined);
  // A winner whose end was moved earlier brings that end, counted from the parent's creation.
  const [b] = (await fork(p, 1)).children as [string];
  assert.equal((await api("POST", `/v1/sandboxes/${b}/timeout`, { lifetime_s: 100 })).status, 200);
  const bAge = (Date.parse((await applied(b)).created_at) - created) / 1000;
  assert.equal((await mergeInto(p, b)).status, 204);
  const ended = (await applied(p)).applied;
  assert.equal(ended.max_lifetime_s, 600);
  assert.equal(ended.lifetime_s, Math.floor(bAge) + 100, JSON.stringify(ended));
  await closeSandbox(p);
});

test("merge_into counts the winner's time in usage: sandbox_seconds never goes down (each merge dropped the winner's seconds)", async () => {
  const seconds = async () => ((await (await api("GET", "/v1/usage")).json()) as { sandbox_seconds: number }).sandbox_seconds;
  const p = await pool.create();
  const [a] = (await fork(p, 1)).children as [string];
  // The winner runs a while: its seconds are a visible part of the running total.
  const atFork = await seconds();
  await eventually(async () => (await seconds()) - atFork >= 3, "usage did not grow while two sandboxes ran", 20_000);
  const before = await seconds();
  assert.equal((await mergeInto(p, a)).status, 204);
  const after = await seconds();
  assert.ok(after >= before, `sandbox_seconds went down across the merge: ${before} -> ${after}`);
  await closeSandbox(p);
});

test("merge_into a grandchild whose parent was closed: it descends from its grandparent now (it answered 400 'not a fork descendant')", async () => {
  const p = await pool.create();
  await exec(p, "v = 'p'");
  const [c] = (await fork(p, 1)).children as [string];
  const [g] = (await fork(c, 1)).children as [string];
  await exec(g, "v = 'g'");
  await closeSandbox(c);
  const info = (await (await api("GET", `/v1/sandboxes/${g}`)).json()) as { parent_id: string };
  assert.equal(info.parent_id, p, "the grandchild's parent is its grandparent once its parent is gone");
  const m = await mergeInto(p, g);
  assert.equal(m.status, 204, m.text);
  assert.equal((await exec(p, "print(v)")).stdout, "g\n");
  await closeSandbox(p);
});

test("merge_into errors: into itself 400, not a descendant 400, unknown 404", async () => {
  const p = await pool.create();
  const other = await pool.create();
  const [a] = (await fork(p, 1)).children as [string];
  const self = await mergeInto(p, p);
  assert.equal(self.status, 400, self.text);
  assert.match(self.text, /into itself/);
  const stranger = await mergeInto(p, other);
  assert.equal(stranger.status, 400, stranger.text);
  assert.match(stranger.text, /not a fork descendant/);
  // Reversed: the parent is not a descendant of its child.
  assert.equal((await mergeInto(a, p)).status, 400);
  assert.equal((await mergeInto(p, "sbx_00000000000000000000000000000000")).status, 404);
  assert.equal((await mergeInto("sbx_00000000000000000000000000000000", a)).status, 404);
  // Nothing changed.
  assert.equal((await exec(a, "print('a ok')")).stdout, "a ok\n");
  assert.equal((await exec(p, "print('p ok')")).stdout, "p ok\n");
  await closeSandbox(a);
});

test("the TypeScript SDK: fork(n), mergeInto(winner), diff", async () => {
  const sb = await Sandbox.create({ host: hostdUrl() });
  try {
    await sb.runCode("k = 1");
    const [a, b] = await sb.fork(2);
    await a!.runCode("k = 2");
    await a!.runCode("open('/root/new.txt','w').write('n')");
    const d = await sb.diff(a!, ["/root"]);
    assert.ok(d.added.some((p: string) => p.endsWith("new.txt")), JSON.stringify(d));
    await sb.mergeInto(a!);
    assert.equal((await sb.runCode("print(k)")).stdout, "2\n");
    await a!.close(); // a no-op after merge
    await b!.close();
  } finally {
    await sb.close();
  }
});

test("the Python SDK: fork(n), merge_into(winner) (winner.close() a no-op), diff", async () => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const sdkDir = fileURLToPath(new URL("../../../packages/sdk-python", import.meta.url));
  const script = `
from podflare import Sandbox
sb = Sandbox()
try:
    sb.run_code("k = 1")
    a, b = sb.fork(n=2)
    a.run_code("k = 2")
    a.run_code("open('/root/new.txt', 'w').write('n')")
    d = sb.diff(a, paths=["/root"])
    assert any(p.endswith("new.txt") for p in d["added"]), d
    sb.merge_into(a)
    print(sb.run_code("print(k)").stdout, end="")
    a.close()
    b.close()
finally:
    sb.close()
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script], {
    env: { ...process.env, PYTHONPATH: sdkDir },
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "2\n");
});

test("fork depth: a chain of forks stops with a clear 409 once Landlock's 16 layers are used", async () => {
  // Cold-booted (not a pool default): a pooled sandbox is spawned from the zygote and has used
  // one generation already (tests/security/pool-spawn checks its 13).
  const root = await pool.create({ memory_mb: 640 });
  await exec(root, "depth = 0");
  const chain: string[] = [];
  let cur = root;
  let refused: { status: number; body: { error?: string; code?: string } } | null = null;
  for (let gen = 1; gen <= 20; gen++) {
    const r = await forkStatus(cur, { n: 1 });
    if (r.status !== 200) {
      refused = r;
      break;
    }
    cur = (r.body as unknown as { children: string[] }).children[0]!;
    chain.push(cur);
    await exec(cur, "depth += 1");
  }
  assert.ok(refused, "20 generations of fork were allowed");
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "conflict");
  assert.match(refused.body.error ?? "", /fork depth limit reached/);
  assert.equal(chain.length, 14);
  // That nothing of the refused child is left behind is checked on a hostd of its own
  // (fork-restart.test.ts), where no other test creates sandboxes meanwhile.
  // The deepest child still works, and an earlier generation can still fork.
  assert.equal((await exec(cur, "print(depth)")).stdout, "14\n");
  const again = await forkStatus(chain[2]!, { n: 1 });
  assert.equal(again.status, 200);
  for (const id of [...chain, ...(again.body as unknown as { children: string[] }).children].reverse()) await closeSandbox(id);
});

test("a fork during an upload: the children get neither the half-written upload nor its temporary file; the parent gets the file whole", async () => {
  const p = await pool.create();
  const url = new URL(`/v1/sandboxes/${p}/files?path=/root/big.bin`, hostdUrl());
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const req = http.request(url, { method: "PUT", headers: { "content-type": "application/octet-stream", "content-length": String(8 * chunk.length) } });
  const answered = new Promise<number>((resolve, reject) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
  });
  req.write(chunk);
  // The upload's temporary file is there and growing: fork now.
  for (let i = 0; ; i++) {
    if ((await bash(p, "ls -a /root")).stdout.includes(".pf-upload-")) break;
    assert.ok(i < 200, "the upload's temporary file never appeared");
  }
  const children = (await fork(p, 2)).children;
  for (let i = 0; i < 7; i++) req.write(chunk);
  req.end();
  assert.equal(await answered, 204);
  assert.equal((await bash(p, "stat -c %s /root/big.bin; ls -a /root | grep -c pf-upload || true")).stdout, `${8 * chunk.length}\n0\n`);
  for (const c of children) {
    assert.equal((await bash(c, "ls -a /root | grep -c 'pf-upload\\|big.bin' || true")).stdout, "0\n", `child ${c} kept the parent's unfinished upload`);
    await closeSandbox(c);
  }
});

test("diff skips the kernel's views (/proc, /sys, /dev) and hashes no more of a file than it says it holds: it ends, and the sandbox answers after", async () => {
  const sb = await Sandbox.create({ host: hostdUrl() });
  try {
    const [a] = await sb.fork(1);
    // /proc/*/pagemap reports size 0 and reads without end: the old snippet never finished.
    const d = await sb.diff(a!, ["/proc", "/sys/kernel", "/dev"]);
    assert.deepEqual(d, { added: [], removed: [], modified: [] });
    const whole = await sb.diff(a!, ["/root", "/proc/self"]);
    assert.deepEqual(whole.modified, []);
    assert.equal((await sb.runCode("print('answers')")).stdout, "answers\n");
    await a!.close();
  } finally {
    await sb.close();
  }
});
