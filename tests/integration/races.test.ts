// Calls racing a delete, a restart, a pause or another merge on the same sandbox: each answers
// 2xx or its documented 4xx with its code (docs/api.md, "Calls that race"), never a 500, never
// a host path or a helper's traceback; hostd stays healthy. (An outside tester's repros.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { api, closeSandbox, exec, execStarted, SandboxPool } from "../support/api.js";
import { fork } from "../fork/support.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

const ROUNDS = 20;
const LEAKS = ["/work/", "/var/lib/", "Traceback", "ENOENT"];

interface Answer {
  what: string;
  status: number;
  text: string;
}

async function call(what: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await api(method, path, body);
  return { what, status: res.status, text: await res.text() };
}

/** 2xx, or one of `allowed` (status → code); and nothing of the host in the body. */
function check(a: Answer, allowed: Record<number, string>): void {
  for (const leak of LEAKS) assert.ok(!a.text.includes(leak), `${a.what}: ${a.status} leaks ${JSON.stringify(leak)}: ${a.text.slice(0, 400)}`);
  if (a.status >= 200 && a.status < 300) return;
  const code = allowed[a.status];
  assert.ok(code, `${a.what}: unexpected ${a.status}: ${a.text.slice(0, 400)}`);
  assert.equal((JSON.parse(a.text) as { code: string }).code, code, `${a.what}: ${a.text}`);
}

/** The exit code of an NDJSON exec answer (it must end with its exit event). */
function exitOf(a: Answer): number {
  const events = a.text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: unknown });
  const last = events[events.length - 1];
  assert.equal(last?.type, "exit", `${a.what}: the stream must end with exit: ${a.text.slice(-300)}`);
  return last!.data as number;
}

const gone = { 404: "sandbox_not_found" };

test("fork, exec and delete of one sandbox at once: 200 or 404, and the children of a fork that answered work", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const id = await pool.create();
    await exec(id, "x = 41");
    const [forked, deleted, ran] = await Promise.all([
      call(`round ${round} fork`, "POST", `/v1/sandboxes/${id}/fork`, { n: 2 }),
      call(`round ${round} delete`, "DELETE", `/v1/sandboxes/${id}`),
      call(`round ${round} exec`, "POST", `/v1/sandboxes/${id}/exec`, { code: "x += 1; print(x)" }),
    ]);
    check(forked, gone);
    check(ran, gone);
    assert.equal(deleted.status, 204, deleted.text);
    if (ran.status === 200) exitOf(ran);
    if (forked.status === 200) {
      const { children } = JSON.parse(forked.text) as { children: string[] };
      pool.track(...children);
      for (const c of children) {
        const r = await exec(c, "print(x)");
        assert.match(r.stdout, /^4[12]\n$/, `round ${round}: child ${c} lost the parent's REPL`);
      }
    }
  }
});

test("execs queued behind one that runs when the sandbox is deleted: 200 or 404 sandbox_not_found", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const id = await pool.create();
    const code = { code: "import time; time.sleep(0.05); print(1)" };
    const answers = await Promise.all([
      call(`round ${round} exec 1`, "POST", `/v1/sandboxes/${id}/exec`, code),
      call(`round ${round} exec 2`, "POST", `/v1/sandboxes/${id}/exec`, code),
      call(`round ${round} exec 3`, "POST", `/v1/sandboxes/${id}/exec`, { code: "echo hi", language: "bash" }),
      call(`round ${round} delete`, "DELETE", `/v1/sandboxes/${id}`),
      call(`round ${round} files`, "GET", `/v1/sandboxes/${id}/files?path=/root`),
      call(`round ${round} restart`, "POST", `/v1/sandboxes/${id}/restart_repl`),
    ]);
    for (const a of answers) check(a, gone);
    for (const a of answers.slice(0, 3)) if (a.status === 200) exitOf(a);
    assert.equal(answers[3]!.status, 204);
  }
});

test("an exec running when its sandbox is deleted ends saying the sandbox was closed, not that the REPL died", async () => {
  const id = await pool.create();
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "import time\nprint('started', flush=True)\ntime.sleep(60)" });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("started")) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the exec ended before it started: ${text}`);
    text += Buffer.from(value).toString("utf8");
  }
  assert.equal((await api("DELETE", `/v1/sandboxes/${id}`)).status, 204);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString("utf8");
  }
  assert.equal(exitOf({ what: "exec", status: 200, text }), 137);
  assert.match(text, /SandboxClosed: the sandbox was closed while this code ran/);
  assert.doesNotMatch(text, /REPL process died/);
});

/** `p`, or a failure naming `what` after `ms`: a call that hangs fails the test instead of stalling it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);
}

test("freeze and pause of one sandbox at once: both answer, the Space has the state, nothing hangs", async () => {
  for (let round = 0; round < 5; round++) {
    const id = await pool.create({ persistent: true });
    await exec(id, "w = 5");
    const [freeze, pause] = await within(Promise.all([
      call(`round ${round} freeze`, "POST", `/v1/sandboxes/${id}/freeze`),
      call(`round ${round} pause`, "POST", `/v1/sandboxes/${id}/pause`),
    ]), 30_000, `round ${round}: freeze racing pause`);
    check(pause, gone);
    assert.equal(freeze.status, 200, freeze.text);
    const { space_id } = JSON.parse(freeze.text) as { space_id: string };
    const resumed = await api("POST", `/v1/spaces/${space_id}/resume`);
    const sb = (await resumed.json()) as { id: string };
    assert.equal(resumed.status, 200, JSON.stringify(sb));
    assert.equal((await within(exec(sb.id, "print(w)"), 30_000, "an exec on the resumed Space")).stdout, "5\n");
    await closeSandbox(sb.id);
  }
});

test("a pause while an exec runs, then another exec: the second wakes the sandbox and both finish", async () => {
  const id = await pool.create();
  const first = await execStarted(id, "import time\nprint('started', flush=True)\ntime.sleep(1.5)\nprint('first')");
  assert.equal((await api("POST", `/v1/sandboxes/${id}/pause`)).status, 200);
  const second = await within(exec(id, "print('second')"), 20_000, "an exec queued behind one the pause froze");
  assert.equal(second.stdout, "second\n");
  assert.match(await within(first.rest, 20_000, "the exec the pause froze"), /first/);
});

test("an exec queued before a pause (behind one running) wakes the sandbox, and both finish", async () => {
  // It waited behind the exec the pause froze, which only a later call woke: both hung for good.
  const id = await pool.create();
  const first = await execStarted(id, "import time\nprint('started', flush=True)\ntime.sleep(1.5)\nprint('first')");
  const second = exec(id, "print('second')");
  // The second is queued (one exec at a time) before the pause is asked for.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await api("POST", `/v1/sandboxes/${id}/pause`)).status, 200);
  assert.equal((await within(second, 20_000, "an exec queued before the pause")).stdout, "second\n");
  assert.match(await within(first.rest, 20_000, "the exec the pause froze"), /first/);
});

test("ten deletes of one sandbox: one 204, the rest 404 sandbox_not_found", async () => {
  const id = await pool.create();
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`delete ${i}`, "DELETE", `/v1/sandboxes/${id}`)));
  for (const a of answers) check(a, gone);
  assert.equal(answers.filter((a) => a.status === 204).length, 1);
});

test("restart_repl, pause, resume, kill_processes and execs at once: all 2xx; the sandbox works after", async () => {
  const id = await pool.create();
  for (let round = 0; round < ROUNDS; round++) {
    const p = `/v1/sandboxes/${id}`;
    const changes = Promise.all([
      call(`round ${round} restart`, "POST", `${p}/restart_repl`),
      call(`round ${round} pause`, "POST", `${p}/pause`),
      call(`round ${round} resume`, "POST", `${p}/resume`),
      call(`round ${round} kill_processes`, "POST", `${p}/kill_processes`),
      call(`round ${round} restart 2`, "POST", `${p}/restart_repl`),
      call(`round ${round} pause 2`, "POST", `${p}/pause`),
    ]);
    const execs = Promise.all([
      call(`round ${round} exec python`, "POST", `${p}/exec`, { code: "print(2 + 2)", timeout_ms: 20_000 }),
      call(`round ${round} exec bash`, "POST", `${p}/exec`, { code: "echo hi", language: "bash", timeout_ms: 20_000 }),
      call(`round ${round} list processes`, "GET", `${p}/processes`),
    ]);
    const answered = await changes;
    for (const a of answered) check(a, {});
    // An exec running when a pause landed waits for a resume, as documented.
    check(await call(`round ${round} resume after`, "POST", `${p}/resume`), {});
    const ran = await execs;
    for (const a of ran.slice(0, 2)) check(a, {});
    // A process call whose kernel a restart replaced under it says so.
    check(ran[2]!, { 409: "conflict" });
    for (const a of ran.slice(0, 2)) {
      const code = exitOf(a);
      // 137: the exec ran on the REPL a restart_repl replaced (docs/api.md, restart_repl).
      assert.ok(code === 0 || code === 137, `${a.what}: exit ${code}: ${a.text.slice(-300)}`);
    }
  }
  assert.equal((await exec(id, "print('alive')")).stdout, "alive\n");
});

test("two merges of one parent into two children at once: one 204, the other 409 conflict; the winner's state is the parent's", async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const parent = await pool.create();
    await exec(parent, "v = 'parent'");
    const kids = (await fork(parent, 2)).children as [string, string];
    pool.track(...kids);
    await Promise.all(kids.map((k, i) => exec(k, `v = 'kid${i}'`)));
    const ops = [
      call(`round ${round} merge kid0`, "POST", `/v1/sandboxes/${parent}/merge_into/${kids[0]}`),
      call(`round ${round} merge kid1`, "POST", `/v1/sandboxes/${parent}/merge_into/${kids[1]}`),
    ];
    // Every other round kid0 is deleted meanwhile too: its merge is then 404.
    if (round % 2 === 1) ops.push(call(`round ${round} delete kid0`, "DELETE", `/v1/sandboxes/${kids[0]}`));
    const [m0, m1, del] = await Promise.all(ops);
    check(m0!, { 404: "sandbox_not_found", 409: "conflict" });
    check(m1!, { 409: "conflict" });
    if (del) check(del, gone);
    const won = [m0!, m1!].flatMap((m, i) => (m.status === 204 ? [i] : []));
    assert.equal(won.length, 1, `round ${round}: exactly one merge must win: ${m0!.status} ${m1!.status}`);
    assert.equal((await exec(parent, "print(v)")).stdout, `kid${won[0]}\n`, `round ${round}`);
    // The winner id is retired; the loser keeps running as it was.
    const loser = 1 - won[0]!;
    assert.equal((await api("GET", `/v1/sandboxes/${kids[won[0]!]}`)).status, 404);
    if (!(loser === 0 && del)) assert.equal((await exec(kids[loser]!, "print(v)")).stdout, `kid${loser}\n`);
  }
});

test("after the races: hostd is healthy and a new sandbox runs code", async () => {
  assert.equal((await api("GET", "/v1/healthz")).status, 200);
  const id = await pool.create();
  assert.equal((await exec(id, "print(6 * 7)")).stdout, "42\n");
});
