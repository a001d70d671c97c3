// The REPL and bash through the real REST API of a real hostd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, bash, exec } from "../support/api.js";
import { eventually } from "../support/host.js";

const pool = new SandboxPool();
let id: string;

before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

describe("python REPL", () => {
  test("state persists across calls", async () => {
    assert.equal((await exec(id, "x = 41")).exitCode, 0);
    const r = await exec(id, "print(x + 1)");
    assert.equal(r.stdout, "42\n");
    assert.equal(r.exitCode, 0);
  });

  test("imports and open files survive between calls", async () => {
    await exec(id, "import json\nf = open('/tmp/keep.txt', 'w')\nf.write('a')");
    const r = await exec(id, "f.write('b'); f.flush(); print(json.dumps(open('/tmp/keep.txt').read()))");
    assert.equal(r.stdout, '"ab"\n');
  });

  test("an uncaught exception exits 1 with a traceback and the REPL stays usable", async () => {
    const r = await exec(id, "y = 5\n1/0");
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /ZeroDivisionError: division by zero/);
    assert.doesNotMatch(r.stderr, /podflare_guest/, "the kernel's own frames stay out of the traceback");
    assert.equal((await exec(id, "print(y)")).stdout, "5\n");
  });

  test("SystemExit(n) gives exit n", async () => {
    assert.equal((await exec(id, "raise SystemExit(3)")).exitCode, 3);
    assert.equal((await exec(id, "import sys; sys.exit(0)")).exitCode, 0);
  });

  test("each event is one line, and joining them gives the output byte for byte", async () => {
    const r = await exec(id, "import sys\nprint('a')\nsys.stdout.write('no newline')\nsys.stdout.flush()\nprint('', file=sys.stderr)\nprint('é😀')");
    assert.equal(r.stdout, "a\nno newlineé😀\n");
    for (const e of r.events.filter((e) => e.type === "stdout")) {
      const s = e.data as string;
      assert.ok(!s.slice(0, -1).includes("\n"), `an event holds at most one line: ${JSON.stringify(s)}`);
    }
  });

  test("output streams as produced, before the call ends", async () => {
    // The code ends only once the test has seen its first line and then written /tmp/go.
    const code = "import os, time\nprint(1, flush=True)\nwhile not os.path.exists('/tmp/go'): time.sleep(0.01)\nprint(2)";
    const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code, timeout_ms: 30_000 });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n")) text += decoder.decode((await reader.read()).value, { stream: true });
    assert.match(text, /"data":"1\\n"/);
    assert.equal((await api("PUT", `/v1/sandboxes/${id}/files?path=/tmp/go`, "go")).status, 204);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
    assert.match(text, /"data":"2\\n"/);
    assert.match(text, /"type":"exit","data":0,/);
  });

  test("output of subprocesses started from the REPL is captured", async () => {
    const r = await exec(id, "import os, subprocess\nos.system('echo from-system')\nsubprocess.run(['echo', 'from-run'])");
    assert.equal(r.stdout, "from-system\nfrom-run\n");
  });

  test("large output arrives whole", async () => {
    const r = await exec(id, "import sys\nfor i in range(200000): sys.stdout.write('%07d\\n' % i)");
    assert.equal(r.exitCode, 0);
    const lines = r.stdout.split("\n");
    assert.equal(lines.length, 200001);
    assert.equal(lines[199999], "0199999");
  });

  test("env and cwd apply to one call", async () => {
    const r = await exec(id, "import os; print(os.environ.get('PF_T'), os.getcwd())", { env: { PF_T: "v1" }, cwd: "/tmp" });
    assert.equal(r.stdout, "v1 /tmp\n");
    const again = await exec(id, "import os; print(os.environ.get('PF_T'), os.getcwd())");
    assert.equal(again.stdout, "None /root\n");
  });

  test("calls queue: one exec at a time, in order", async () => {
    const results = await Promise.all([
      exec(id, "import time; time.sleep(0.3); q = 1"),
      exec(id, "print(q)"),
    ]);
    assert.equal(results[1].stdout, "1\n");
  });
});

describe("timeouts", () => {
  test("timeout_ms interrupts a busy loop; exit 124 and the REPL keeps its globals", async () => {
    await exec(id, "kept = 'yes'");
    const r = await exec(id, "while True: pass", { timeout_ms: 2000 });
    assert.equal(r.exitCode, 124);
    assert.match(r.stderr, /KeyboardInterrupt/);
    assert.match(r.stderr, /timeout_ms=2000/);
    assert.equal((await exec(id, "print(kept)")).stdout, "yes\n");
  });

  test("timeout_ms interrupts a blocking sleep", async () => {
    const r = await exec(id, "import time; time.sleep(60)", { timeout_ms: 500 });
    assert.equal(r.exitCode, 124);
  });

  test("code that ignores the interrupt is killed; the REPL restarts empty and says so", async () => {
    const victim = await pool.create();
    await exec(victim, "lost = 1");
    const code = "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass";
    const r = await exec(victim, code, { timeout_ms: 500 });
    assert.equal(r.exitCode, 137);
    assert.match(r.stderr, /ignored the interrupt; the REPL was killed and restarted/);
    const after = await exec(victim, "print('lost' in globals())");
    assert.equal(after.stdout, "False\n");
  });

  test("bash: timeout stops the process group", async () => {
    const r = await bash(id, "sleep 60", { timeout_ms: 500 });
    assert.equal(r.exitCode, 124);
  });
});

describe("bash", () => {
  test("runs in the same sandbox, cwd /root, fresh process per call", async () => {
    const r = await bash(id, "pwd; uname -s; . /etc/os-release; echo $ID; echo err >&2; exit 7");
    assert.equal(r.stdout, "/root\nLinux\ndebian\n");
    assert.equal(r.stderr, "err\n");
    assert.equal(r.exitCode, 7);
    await bash(id, "export GONE=1; cd /tmp");
    assert.equal((await bash(id, "echo ${GONE:-unset} $(pwd)")).stdout, "unset /root\n");
  });

  test("sees files the REPL wrote", async () => {
    await exec(id, "open('/root/shared.txt', 'w').write('from python')");
    assert.equal((await bash(id, "cat /root/shared.txt")).stdout, "from python");
  });

  test("background children keep running and do not hold the call open", async () => {
    // Had the call waited for its children, they would be gone by now.
    const r = await bash(id, "sleep 300 & echo $! > /tmp/bg.pid; nohup sleep 301 >/dev/null 2>&1 & echo started");
    assert.equal(r.stdout, "started\n");
    const alive = await bash(id, "kill -0 $(cat /tmp/bg.pid) && echo alive; pgrep -c -f 'sleep 301'");
    assert.equal(alive.stdout, "alive\n1\n");
  });

  test("a background server that keeps writing to its stdout keeps working", async () => {
    await bash(id, "(for i in $(seq 1 40); do echo tick $i; sleep 0.05; done; echo finished > /tmp/ticker.done) &");
    const done = async () => (await bash(id, "cat /tmp/ticker.done 2>/dev/null")).stdout === "finished\n";
    await eventually(done, "the background ticker did not finish writing", 15_000);
  });
});

describe("bad input", () => {
  test("unknown sandbox id → 404 sandbox_not_found", async () => {
    for (const bad of ["sbx_00000000000000000000000000000000", "nope", "..%2F..%2Fetc"]) {
      const res = await api("POST", `/v1/sandboxes/${bad}/exec`, { code: "1" });
      const body = (await res.json()) as { code: string; error: string };
      assert.equal(res.status, 404);
      assert.equal(body.code, "sandbox_not_found");
    }
  });

  test("bad JSON → 400 invalid_json; unknown language → 400 unknown_language; missing code → 400", async () => {
    let res = await api("POST", `/v1/sandboxes/${id}/exec`, "{not json");
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, "invalid_json");
    res = await api("POST", `/v1/sandboxes/${id}/exec`, { code: "1", language: "ruby" });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, "unknown_language");
    res = await api("POST", `/v1/sandboxes/${id}/exec`, { language: "python" });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /code must be a string/);
  });

  test("a field nobody knows is refused, never dropped: exec, create and fork name it and what they take", async () => {
    // A typo'd language would otherwise run the bash as Python; `count` would fork one child.
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      ["POST", `/v1/sandboxes/${id}/exec`, { code: "echo hi", langauge: "bash" }, /unknown field\(s\) "langauge"; an exec takes code, language/],
      ["POST", "/v1/sandboxes", { template: "default", memory: 512 }, /unknown field\(s\) "memory"; a create takes template/],
      ["POST", `/v1/sandboxes/${id}/fork`, { count: 3 }, /unknown field\(s\) "count"; a fork takes n/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await api(method, path, body);
      const answer = (await res.json()) as { code: string; error: string };
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(answer)}`);
      assert.equal(answer.code, "bad_request");
      assert.match(answer.error, message);
    }
    const list = (await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { parent_id: string | null }[] };
    assert.ok(!list.sandboxes.some((s) => s.parent_id === id), "the refused fork made no child");
  });

  test("create with wrong field types → 400 naming the field; unknown template → 404", async () => {
    let res = await api("POST", "/v1/sandboxes", { memory_mb: "lots" });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /memory_mb/);
    res = await api("POST", "/v1/sandboxes", { template: "no-such-template" });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, "template_not_found");
  });

  test("unknown route → 404 not_found, wrong method → 405", async () => {
    let res = await api("GET", "/v1/nothing-here");
    assert.equal(res.status, 404);
    res = await api("PATCH", `/v1/sandboxes/${id}`);
    assert.equal(res.status, 405);
  });
});
