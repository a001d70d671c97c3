// Background processes: /v1/sandboxes/:id/processes (docs/api.md, "Processes").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import http from "node:http";
import { SandboxPool, api, bash, createSandbox, closeSandbox, hostdUrl } from "../support/api.js";
import { eventually, until } from "../support/host.js";
import { openNdjson } from "../support/ndjson.js";

interface Info { pid: number; running: boolean; exit_code: number | null; signal: string | null; tag: string | null; cmd: string }
type Ev = { type: string; data?: string; exit_code?: number; signal?: string | null; process?: Info };

const pool = new SandboxPool();
let id: string;
const P = () => `/v1/sandboxes/${id}/processes`;

async function start(body: Record<string, unknown>): Promise<Info> {
  const res = await api("POST", P(), body);
  const json = (await res.json()) as Info;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

async function info(pid: number | string): Promise<Info> {
  const res = await api("GET", `${P()}/${pid}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Info;
}

before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

test("start in the background, list it, and a late connect sees earlier output, then live output and exit", async () => {
  const p = await start({ cmd: "echo early; echo oops >&2; touch /tmp/early-done; read line; echo got:$line; exit 3", tag: "late", stdin: true });
  assert.ok(p.pid > 1);
  assert.equal(p.running, true);
  const list = (await (await api("GET", P())).json()) as { processes: Info[] };
  assert.ok(list.processes.some((x) => x.pid === p.pid && x.tag === "late" && x.running));
  // Connect only once the early output was surely produced: the ring replays it.
  await until(async () => (await bash(id, "test -e /tmp/early-done && echo yes")).stdout === "yes\n" || undefined, "the early output to be written");
  const s = await openNdjson<Ev>(`${P()}/late/stream`);
  assert.equal(s.status, 200);
  await s.waitFor((e) => e.type === "stdout" && e.data === "early\n", "replayed stdout");
  await s.waitFor((e) => e.type === "stderr" && e.data === "oops\n", "replayed stderr");
  assert.equal((await api("POST", `${P()}/${p.pid}/stdin`, { data: "hello\n" })).status, 204);
  await s.waitFor((e) => e.type === "stdout" && e.data === "got:hello\n", "live output after stdin");
  const exit = await s.waitFor((e) => e.type === "exit", "exit");
  assert.equal(exit.exit_code, 3);
  await s.ended;
  assert.equal(s.events[0]!.type, "start");
  const after = await info(p.pid);
  assert.deepEqual([after.running, after.exit_code], [false, 3]);
  // The exact bytes, for clients that need them (E2B's bytes fields, binary output).
  const raw = await openNdjson<Ev & { data_base64?: string }>(`${P()}/${p.pid}/stream?encoding=base64`);
  await raw.ended;
  assert.equal(Buffer.from(raw.events.find((e) => e.type === "stdout")!.data_base64!, "base64").toString(), "early\n");
});

test("a lossless stream that stops reading holds the process back, then gets every byte", async () => {
  // 3 M lines (~21 MB): far more than the ring, the pipes and the loopback socket buffers hold.
  const lines = 3_000_000;
  const p = await start({ cmd: `read go; seq 1 ${lines}`, stdin: true, tag: "lossless" });
  const url = new URL(`${hostdUrl()}${P()}/${p.pid}/stream?lossless=true`);
  let res!: http.IncomingMessage;
  await new Promise<void>((resolve, reject) => {
    http.get(url, (r) => {
      res = r;
      r.pause(); // read nothing yet
      resolve();
    }).on("error", reject);
  });
  assert.equal(res.statusCode, 200);
  assert.equal((await api("POST", `${P()}/${p.pid}/stdin`, { data: "go\n" })).status, 204);
  // The reader reads nothing: seq must end up blocked writing to its full pipe, still running.
  await until(async () => /pipe_write$/.test((await bash(id, "cat /proc/$(pgrep -x seq)/wchan 2>/dev/null")).stdout) || undefined, "seq blocked on its pipe by the unread stream", 60_000);
  assert.equal((await info(p.pid)).running, true);
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (d: string) => (text += d));
  res.resume();
  await new Promise((r) => res.on("end", r));
  const events = text.trim().split("\n").map((l) => JSON.parse(l) as Ev);
  const out = events.filter((e) => e.type === "stdout").map((e) => e.data).join("");
  assert.equal(events.at(-1)!.type, "exit");
  assert.equal(events.at(-1)!.exit_code, 0);
  const got = out.split("\n");
  assert.equal(got.length, lines + 1, "every line arrives");
  for (let i = 0; i < lines; i += 99_991) assert.equal(got[i], String(i + 1));
  assert.equal(got[lines - 1], String(lines));
  assert.equal(out.length, Buffer.byteLength(Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join("")));
  const bad = await api("GET", `${P()}/${p.pid}/stream?lossless=yes`);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, "bad_request");
});

test("started lossless, the output waits for its first stream; without a stream it is released after 10 s", async () => {
  const lines = 300_000;
  const held = await start({ cmd: `seq 1 ${lines}`, lossless: true, tag: "held" });
  await until(async () => /pipe_write$/.test((await bash(id, "cat /proc/$(pgrep -x seq)/wchan 2>/dev/null")).stdout) || undefined, "seq held before any stream");
  const s = await openNdjson<Ev>(`${P()}/${held.pid}/stream?lossless=true`);
  await s.ended;
  const out = s.events.filter((e) => e.type === "stdout").map((e) => e.data).join("");
  assert.equal(out, Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join(""), "all of it, from line 1");
  assert.equal(s.events.at(-1)!.exit_code, 0);
  // Nobody comes: after 10 s the ring's rule applies and the process runs to its end.
  const orphan = await start({ cmd: `seq 1 ${lines}`, lossless: true });
  await until(async () => (await info(orphan.pid)).running === false || undefined, "the unread lossless process released", 30_000);
  assert.equal((await info(orphan.pid)).exit_code, 0);
  const bad = await api("POST", P(), { cmd: "true", lossless: "yes" });
  assert.equal(bad.status, 400);
});

test("close stdin gives EOF; wait answers with the exit code", async () => {
  const p = await start({ cmd: "wc", args: ["-c"], stdin: true });
  assert.equal((await api("POST", `${P()}/${p.pid}/stdin`, { data_base64: Buffer.from("12345").toString("base64") })).status, 204);
  assert.equal((await api("POST", `${P()}/${p.pid}/close_stdin`)).status, 204);
  const res = await api("POST", `${P()}/${p.pid}/wait`);
  const done = (await res.json()) as Info;
  assert.deepEqual([done.running, done.exit_code], [false, 0]);
  const s = await openNdjson<Ev>(`${P()}/${p.pid}/stream`);
  await s.ended;
  assert.equal(s.events.filter((e) => e.type === "stdout").map((e) => e.data).join("").trim(), "5");
});

test("signals: SIGTERM, SIGINT and SIGKILL end it, with the signal named", async () => {
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["KILL", 137]] as const) {
    const p = await start({ cmd: "sleep", args: ["300"] });
    assert.equal((await api("POST", `${P()}/${p.pid}/signal`, { signal })).status, 204);
    const done = (await (await api("POST", `${P()}/${p.pid}/wait`)).json()) as Info;
    assert.equal(done.exit_code, code, signal);
    assert.equal(done.signal, signal === "KILL" ? "SIGKILL" : signal);
  }
  const p = await start({ cmd: "sleep 300" });
  assert.equal((await api("DELETE", `${P()}/${p.pid}`)).status, 204);
  assert.equal(((await (await api("POST", `${P()}/${p.pid}/wait`)).json()) as Info).exit_code, 137);
});

test("a process outlives the request and the exec calls around it, and runs in the sandbox", async () => {
  const p = await start({ cmd: "sleep 300", tag: "survivor" });
  await bash(id, "true");
  // bash -c execs the lone command: wait for that exec, seen from inside the sandbox.
  await until(async () => (await bash(id, `cat /proc/${p.pid}/cmdline | tr '\\0' ' '`)).stdout.trim() === "sleep 300" || undefined, "the process to be `sleep 300` inside the sandbox");
  assert.equal((await info("survivor")).running, true);
  // A connect that only wants what comes next, hung up at once, leaves it running.
  const s = await openNdjson<Ev>(`${P()}/survivor/stream?from=now`);
  await s.waitFor((e) => e.type === "start", "start");
  s.close();
  assert.equal((await info("survivor")).running, true);
  await api("DELETE", `${P()}/survivor`);
});

test("env, cwd and args are applied; a missing program is a clear 404", async () => {
  await bash(id, "mkdir -p /tmp/wd");
  const p = await start({ cmd: "/bin/sh", args: ["-c", "echo $FOO; pwd"], env: { FOO: "bar" }, cwd: "/tmp/wd" });
  const s = await openNdjson<Ev>(`${P()}/${p.pid}/stream`);
  await s.ended;
  assert.equal(s.events.filter((e) => e.type === "stdout").map((e) => e.data).join(""), "bar\n/tmp/wd\n");
  const res = await api("POST", P(), { cmd: "/no/such/program", args: [] });
  assert.equal(res.status, 404);
  const missing = (await res.json()) as { code: string; error: string };
  assert.equal(missing.code, "file_not_found");
  assert.match(missing.error, /\/no\/such\/program/);
  // A missing cwd is named as such, not blamed on the program (bash here) that exec could not start.
  const noCwd = await api("POST", P(), { cmd: "pwd", cwd: "/no/such/dir" });
  assert.equal(noCwd.status, 404);
  const body = (await noCwd.json()) as { code: string; error: string };
  assert.equal(body.code, "file_not_found");
  assert.match(body.error, /working directory \/no\/such\/dir does not exist/);
});

test("bad input and wrong ids are clear 4xx answers with codes", async () => {
  const cases: [string, string, unknown, number, string][] = [
    ["POST", P(), { cmd: "" }, 400, "bad_request"],
    ["POST", P(), { cmd: "x", args: "no" }, 400, "bad_request"],
    ["POST", P(), { cmd: "x", user: "nobody" }, 400, "bad_request"],
    ["POST", P(), { cmd: "x", tag: "123" }, 400, "bad_request"],
    ["POST", P(), { cmd: "x", bogus: 1 }, 400, "bad_request"],
    ["GET", `${P()}/999999`, undefined, 404, "process_not_found"],
    ["GET", `${P()}/no-such-tag`, undefined, 404, "process_not_found"],
    ["POST", `${P()}/999999/signal`, { signal: "SIGTERM" }, 404, "process_not_found"],
    ["POST", `${P()}/1/signal`, { signal: "SIGNOPE" }, 400, "bad_request"],
    ["GET", `/v1/sandboxes/sbx_${"0".repeat(32)}/processes`, undefined, 404, "sandbox_not_found"],
  ];
  for (const [method, path, body, status, code] of cases) {
    const res = await api(method, path, body);
    const json = (await res.json()) as { code: string; error: string };
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(json)}`);
    assert.equal(json.code, code);
    assert.ok(json.error.length > 10);
  }
  const p = await start({ cmd: "sleep 300" });
  const res = await api("POST", `${P()}/${p.pid}/stdin`, { data: "x" });
  assert.equal(res.status, 409, "stdin was not asked for");
  await api("DELETE", `${P()}/${p.pid}`);
});

test("closing the sandbox kills its processes", async () => {
  const other = await createSandbox();
  const marker = `pf-proc-marker-${process.pid}`;
  const res = await api("POST", `/v1/sandboxes/${other}/processes`, { cmd: "sleep", args: ["300"], env: { MARK: marker } });
  assert.equal(res.status, 200);
  const hostPids = () => execSync(`grep -l ${marker} /proc/[0-9]*/environ 2>/dev/null || true`, { encoding: "utf8" }).split("\n").filter(Boolean);
  await eventually(() => hostPids().length > 0, "the process to be visible on the host");
  // It is in the sandbox's cgroups (memory, pids, freezer), not hostd's.
  for (const pid of hostPids()) {
    const groups = execSync(`cat ${pid.replace("/environ", "/cgroup")}`, { encoding: "utf8" });
    assert.match(groups, new RegExp(`memory:.*${other}`), groups);
    assert.match(groups, new RegExp(`pids:.*${other}`), groups);
  }
  await closeSandbox(other);
  await eventually(() => hostPids().length === 0, "the process to be gone after close", 10_000);
});

test("fork: API processes stay in the parent; a child's table starts empty and works", async () => {
  const parent = await pool.create();
  const started = await api("POST", `/v1/sandboxes/${parent}/processes`, { cmd: "sleep 300", tag: "stays", stdin: true });
  assert.equal(started.status, 200);
  const fork = (await (await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 1 })).json()) as { children: string[] };
  pool.track(...fork.children);
  const child = fork.children[0]!;
  const inChild = (await (await api("GET", `/v1/sandboxes/${child}/processes`)).json()) as { processes: Info[] };
  assert.deepEqual(inChild.processes, []);
  const inParent = (await (await api("GET", `/v1/sandboxes/${parent}/processes`)).json()) as { processes: Info[] };
  assert.ok(inParent.processes.some((p) => p.tag === "stays" && p.running));
  // The parent's stdin still reaches EOF: the child holds no copy of the pipe.
  assert.equal((await api("POST", `/v1/sandboxes/${parent}/processes/stays/signal`, { signal: "SIGTERM" })).status, 204);
  const c = await api("POST", `/v1/sandboxes/${child}/processes`, { cmd: "echo from-child" });
  const cp = (await c.json()) as Info;
  const s = await openNdjson<Ev>(`/v1/sandboxes/${child}/processes/${cp.pid}/stream`);
  await s.ended;
  assert.equal(s.events.filter((e) => e.type === "stdout").map((e) => e.data).join(""), "from-child\n");
});

test("kill_processes ends them (shown as killed by SIGKILL); restart_repl empties the table", async () => {
  const sbx = await pool.create();
  const P2 = `/v1/sandboxes/${sbx}/processes`;
  const a = (await (await api("POST", P2, { cmd: "sleep", args: ["300"] })).json()) as Info;
  assert.equal((await api("POST", `/v1/sandboxes/${sbx}/kill_processes`)).status, 200);
  const done = (await (await api("POST", `${P2}/${a.pid}/wait`)).json()) as Info;
  assert.deepEqual([done.exit_code, done.signal], [137, "SIGKILL"]);
  assert.equal((await api("POST", P2, { cmd: "sleep", args: ["301"] })).status, 200);
  assert.equal((await api("POST", `/v1/sandboxes/${sbx}/restart_repl`)).status, 204);
  assert.deepEqual(((await (await api("GET", P2)).json()) as { processes: Info[] }).processes, []);
});
