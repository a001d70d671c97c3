// The unmodified `e2b` SDK's commands, pty and files (envd's Connect-RPC Process and
// Filesystem services) against hostd, mapped onto our processes and filesystem REST API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { CommandExitError, FileType, InvalidArgumentError, NotFoundError, Sandbox, SandboxError } from "e2b";
import { api, bash } from "../support/api.js";
import { eventually } from "../support/host.js";
import { Made, pointE2bAt } from "./support.js";

const made = new Made();
let sbx: Sandbox;

before(async () => {
  pointE2bAt();
  sbx = made.track(await Sandbox.create({ metadata: { suite: "e2b-envd", run: String(process.pid) } }));
});
after(() => made.killAll());

test("commands.run in the foreground gives stdout, stderr and the exit code", async () => {
  const out: string[] = [];
  const r = await sbx.commands.run("echo out; echo err >&2; echo $FOO", { envs: { FOO: "bar" }, onStdout: (d) => void out.push(d) });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, "out\nbar\n");
  assert.equal(r.stderr, "err\n");
  assert.equal(out.join(""), "out\nbar\n");
  const cwd = await sbx.commands.run("pwd", { cwd: "/tmp" });
  assert.equal(cwd.stdout, "/tmp\n");
});

test("commands.run and the PTY lose no output, however much comes faster than it is read", async () => {
  // ~2 MB at once: eight times the process ring; the SDK reads slower than seq writes.
  const lines = 300_000;
  const expected = Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join("");
  const r = await sbx.commands.run(`seq 1 ${lines}`);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.length, expected.length, "commands.run's stdout is whole");
  assert.ok(r.stdout === expected, "and in order");
  let seen = "";
  const pty = await sbx.pty.create({ cols: 200, rows: 50, onData: (d) => void (seen += new TextDecoder().decode(d)) });
  await sbx.pty.sendInput(pty.pid, new TextEncoder().encode(`seq 1 ${lines}; echo DONE-$((6*7)); exit\n`));
  await pty.wait();
  // The terminal turns each \n into \r\n; every line is there, in order, between the echo and DONE.
  assert.ok(seen.includes(`\r${expected.replaceAll("\n", "\r\n")}DONE-42\r\n`), `the PTY showed all ${lines} lines (${seen.length} characters came)`);
});

test("commands.run's login shell reads /etc/profile.d and root's PATH, and starts no program of its own", async () => {
  await sbx.files.write("/etc/profile.d/podflare-e2b-test.sh", "export FROM_PROFILE=yes\n");
  await sbx.files.write("/etc/profile.d/skipped name.sh", "export SKIPPED=read\n");
  const r = await sbx.commands.run('echo "$FROM_PROFILE|${SKIPPED-}|$PATH"');
  assert.equal(r.stdout, "yes||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  // The template's /etc/profile (storage/login-profile.ts): no `id -u`, no `run-parts`.
  const trace = await sbx.commands.run("bash -l -x -c true");
  assert.doesNotMatch(trace.stderr, /\bid -u|run-parts/, trace.stderr);
  await sbx.commands.run("rm -f /etc/profile.d/podflare-e2b-test.sh '/etc/profile.d/skipped name.sh'");
});

test("a non-zero exit raises CommandExitError with the output and the code", async () => {
  await assert.rejects(sbx.commands.run("echo partial; exit 3"), (e: Error) => {
    assert.ok(e instanceof CommandExitError, String(e));
    assert.equal(e.exitCode, 3);
    assert.equal(e.stdout, "partial\n");
    assert.match(e.error ?? "", /exit status 3/);
    return true;
  });
});

test("commands.run in the background, listed by commands.list, ended by kill", async () => {
  const h = await sbx.commands.run("sleep 600", { background: true });
  assert.ok(h.pid > 0);
  const listed = await sbx.commands.list();
  const mine = listed.find((p) => p.pid === h.pid);
  assert.ok(mine, JSON.stringify(listed));
  assert.equal(mine.cmd, "/bin/bash");
  assert.deepEqual(mine.args, ["-l", "-c", "sleep 600"]);
  assert.equal(await h.kill(), true);
  await assert.rejects(h.wait(), (e: Error) => e instanceof CommandExitError && e.exitCode !== 0);
  await eventually(async () => !(await sbx.commands.list()).some((p) => p.pid === h.pid), "the killed process leaves the list");
  assert.equal(await sbx.commands.kill(h.pid), false, "killing a pid that is gone says false");
});

test("commands.run's timeoutMs ends the command, as envd's deadline does: foreground and background; 0 means none", async () => {
  const forever = "while true; do sleep 0.05; done";
  const running = async (marker: string) => (await sbx.commands.list()).filter((p) => p.args.join(" ").includes(marker));
  await assert.rejects(sbx.commands.run(`${forever} # fg-deadline`, { timeoutMs: 1000 }), (e: Error) => e.name === "TimeoutError" || /timeout|deadline/i.test(e.message));
  const untimed = await sbx.commands.run(`${forever} # no-deadline`, { background: true, timeoutMs: 0 });
  const timed = await sbx.commands.run(`${forever} # bg-deadline`, { background: true, timeoutMs: 1500 });
  await eventually(async () => (await running("# fg-deadline")).length === 0, "the foreground command outlived its timeoutMs", 10_000);
  await eventually(async () => (await running("# bg-deadline")).length === 0, "the background command outlived its timeoutMs", 10_000);
  // The SDK's own deadline ends the wait too (TimeoutError), as it does against envd.
  await assert.rejects(timed.wait());
  assert.equal((await running("# no-deadline")).length, 1, "timeoutMs: 0 must leave the command running");
  assert.equal(await untimed.kill(), true);
});

test("commands.run with stdin: sendStdin reaches the process, closeStdin ends its input", async () => {
  const h = await sbx.commands.run("cat", { background: true, stdin: true });
  await sbx.commands.sendStdin(h.pid, "hello ");
  await h.sendStdin("world\n");
  await eventually(() => h.stdout === "hello world\n", "cat echoes what was sent");
  await h.closeStdin();
  const r = await h.wait();
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, "hello world\n");
});

test("sendStdin of more than our 1 MiB a call arrives whole and in order, as envd takes any size", async () => {
  const h = await sbx.commands.run("sha256sum", { background: true, stdin: true });
  const big = Buffer.alloc(2 * 1024 * 1024 + 5, 0);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) % 251;
  await sbx.commands.sendStdin(h.pid, big.toString("latin1"));
  await h.closeStdin();
  const r = await h.wait();
  // The SDK sends the string as UTF-8: the sandbox gets those bytes.
  const sent = Buffer.from(big.toString("latin1"), "utf8");
  const expected = (await import("node:crypto")).createHash("sha256").update(sent).digest("hex");
  assert.equal(r.stdout.split(" ")[0], expected);
});

test("commands.connect attaches to a running command and gets its output and exit", async () => {
  const h = await sbx.commands.run("read line; echo got $line; exit 4", { background: true, stdin: true });
  await h.disconnect();
  const again = await sbx.commands.connect(h.pid);
  assert.equal(again.pid, h.pid);
  await sbx.commands.sendStdin(h.pid, "it\n");
  await assert.rejects(again.wait(), (e: Error) => e instanceof CommandExitError && e.exitCode === 4 && /got it/.test(e.stdout));
  await assert.rejects(sbx.commands.connect(999_999), NotFoundError);
});

test("pty.create runs an interactive shell: input, output and resize", async () => {
  let screen = "";
  const decoder = new TextDecoder();
  const term = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => void (screen += decoder.decode(d, { stream: true })) });
  await sbx.pty.sendInput(term.pid, new TextEncoder().encode("stty size; echo pty-$((40+2))\n"));
  await eventually(() => screen.includes("24 80") && screen.includes("pty-42"), `the shell answered (screen: ${JSON.stringify(screen)})`, 15000);
  await sbx.pty.resize(term.pid, { cols: 100, rows: 30 });
  await sbx.pty.sendInput(term.pid, new TextEncoder().encode("stty size\n"));
  await eventually(() => screen.includes("30 100"), `the resize reached the terminal (screen: ${JSON.stringify(screen)})`, 15000);
  await sbx.pty.sendInput(term.pid, new TextEncoder().encode("exit 0\n"));
  const r = await term.wait();
  assert.equal(r.exitCode, 0);
});

test("files.makeDir, list (with depth), exists, getInfo, rename and remove", async () => {
  assert.equal(await sbx.files.makeDir("/root/e2b-dir/sub"), true);
  assert.equal(await sbx.files.makeDir("/root/e2b-dir/sub"), false, "an existing directory: false");
  await sbx.files.write("/root/e2b-dir/a.txt", "abc");
  await sbx.files.write("/root/e2b-dir/sub/b.txt", "b");
  const top = await sbx.files.list("/root/e2b-dir");
  assert.deepEqual(top.map((e) => [e.name, e.type]).sort(), [["a.txt", FileType.FILE], ["sub", FileType.DIR]]);
  const a = top.find((e) => e.name === "a.txt")!;
  assert.equal(a.path, "/root/e2b-dir/a.txt");
  assert.equal(a.size, 3);
  assert.ok(a.modifiedTime instanceof Date && Math.abs(a.modifiedTime.getTime() - Date.now()) < 3600_000);
  assert.equal(a.permissions.length, 10);
  const deep = await sbx.files.list("/root/e2b-dir", { depth: 2 });
  assert.ok(deep.some((e) => e.path === "/root/e2b-dir/sub/b.txt"), JSON.stringify(deep));

  assert.equal(await sbx.files.exists("/root/e2b-dir/a.txt"), true);
  assert.equal(await sbx.files.exists("/root/e2b-dir/nope"), false);
  const info = await sbx.files.getInfo("/root/e2b-dir/sub");
  assert.equal(info.type, FileType.DIR);
  assert.equal(info.name, "sub");

  const moved = await sbx.files.rename("/root/e2b-dir/a.txt", "/root/e2b-dir/c.txt");
  assert.equal(moved.path, "/root/e2b-dir/c.txt");
  assert.equal(await sbx.files.read("/root/e2b-dir/c.txt"), "abc");
  await sbx.files.remove("/root/e2b-dir");
  assert.equal(await sbx.files.exists("/root/e2b-dir"), false);
  // Our REST API sees the same filesystem.
  assert.equal((await api("GET", `/v1/sandboxes/${sbx.sandboxId}/fs/stat?path=/root/e2b-dir`)).status, 404);
  await assert.rejects(sbx.files.list("/root/not-there"), NotFoundError);
  await assert.rejects(sbx.files.getInfo("/root/not-there"), NotFoundError);
});

test("paths as envd takes them: ~ and a relative path are /home/user's; removing what is not there succeeds; makeDir or list on a file is invalid_argument", async () => {
  assert.equal((await sbx.files.write("~/e2b-home.txt", "home")).path, "/home/user/e2b-home.txt");
  assert.equal(await sbx.files.read("~/e2b-home.txt"), "home");
  assert.equal(await sbx.files.read("e2b-home.txt"), "home", "a relative path is from /home/user");
  assert.equal(await sbx.files.makeDir("~/e2b-home-dir"), true);
  assert.equal((await sbx.files.getInfo("/home/user/e2b-home-dir")).type, FileType.DIR);
  assert.ok((await sbx.files.list("~")).some((e) => e.name === "e2b-home.txt"));
  assert.equal((await sbx.commands.run("pwd", { cwd: "~" })).stdout, "/home/user\n");
  await sbx.files.remove("~/e2b-home-dir");
  await sbx.files.remove("~/e2b-home-dir"); // gone already: as os.RemoveAll, no error
  await assert.rejects(sbx.files.makeDir("/home/user/e2b-home.txt"), (e: Error) => e instanceof InvalidArgumentError && /not a directory/.test(e.message));
  await assert.rejects(sbx.files.list("/home/user/e2b-home.txt"), (e: Error) => e instanceof InvalidArgumentError);
  await sbx.files.remove("/home/user/e2b-home.txt");
});

test("commands start in /home/user with HOME=/home/user, as E2B's do, and see what files.write put there (it was /root)", async () => {
  await sbx.files.write("/home/user/data.csv", "a,b\n1,2\n");
  await sbx.files.write("notes.txt", "relative");
  const r = await sbx.commands.run("pwd; echo $HOME; cat data.csv notes.txt; cd ~ && pwd");
  assert.equal(r.stdout, "/home/user\n/home/user\na,b\n1,2\nrelative/home/user\n");
  assert.equal((await sbx.commands.run("echo $HOME", { envs: { HOME: "/tmp" } })).stdout, "/tmp\n", "a HOME of the caller's wins");
  // Our own API's home is still /root.
  assert.equal((await bash(sbx.sandboxId, "pwd; echo $HOME")).stdout, "/root\n/root\n");
  // A sandbox from a template or Space made before every template had /home/user gets it.
  assert.equal((await sbx.commands.run("rm -rf /home/user")).exitCode, 0);
  assert.equal((await sbx.commands.run("pwd")).stdout, "/home/user\n");
});

test("files.watchDir: files.write, an append and a rename arrive as E2B's events; stop ends the watch", async () => {
  await sbx.files.makeDir("/root/watched");
  const seen: { name: string; type: string }[] = [];
  const handle = await sbx.files.watchDir("/root/watched", (e) => void seen.push({ name: e.name, type: e.type }));
  const saw = (name: string, type: string) => seen.some((e) => e.name === name && e.type === type);
  try {
    // files.write lands by a rename into place: a create, as fsnotify reports a name moved in.
    await sbx.files.write("/root/watched/new.txt", "x");
    await eventually(() => saw("new.txt", "create"), `a create event for new.txt (seen: ${JSON.stringify(seen)})`, 15000);
    await sbx.commands.run("echo more >> /root/watched/new.txt && mv /root/watched/new.txt /root/watched/old.txt");
    await eventually(() => saw("new.txt", "write") && saw("new.txt", "rename") && saw("old.txt", "create"), `write, rename and create events (seen: ${JSON.stringify(seen)})`, 15000);
    assert.ok(!seen.some((e) => e.name.includes(".pf-upload")), `hostd's own temporary upload files are not reported: ${JSON.stringify(seen)}`);
    // Each end of a move is told by the kernel's event, not by what is there later: a name moved
    // in and removed at once is still a create, and one moved away and made again a rename.
    await sbx.commands.run("cd /root/watched && touch b && mv b b2 && rm b2 && touch a && mv a a2 && touch a && echo x > /root/outside-w && mv /root/outside-w in && rm in");
    await eventually(() => saw("b2", "remove") && saw("in", "remove") && saw("a2", "create"), `the moves' events (seen: ${JSON.stringify(seen)})`, 15000);
    const of = (name: string) => seen.filter((e) => e.name === name && ["create", "rename", "remove"].includes(e.type)).map((e) => e.type).join(",");
    assert.equal(of("b"), "create,rename");
    assert.equal(of("b2"), "create,remove");
    assert.equal(of("in"), "create,remove");
    assert.equal(of("a2"), "create");
    assert.ok(of("a").startsWith("create,rename,create"), of("a"));
  } finally {
    await handle.stop();
  }
  await assert.rejects(sbx.files.watchDir("/root/not-a-dir", () => {}), NotFoundError);
});

test("bad input and unserved methods get Connect's error codes as E2B's typed errors", async () => {
  await assert.rejects(sbx.commands.run("true", { cwd: "/no/such/dir" }), (e: Error) => e instanceof SandboxError && /no\/such\/dir|not found|No such/i.test(e.message));
  await assert.rejects(sbx.commands.sendStdin(999_999, "x"), NotFoundError);
  // StreamInput is client streaming, which the SDK never sends; answered unimplemented.
  const res = await fetch(`${process.env.E2B_API_URL}/process.Process/StreamInput`, {
    method: "POST",
    headers: { "content-type": "application/json", "e2b-sandbox-id": sbx.sandboxId, "e2b-sandbox-port": "49983", "x-api-key": process.env.E2B_API_KEY! },
    body: "{}",
  });
  assert.equal(res.status, 501);
  const body = (await res.json()) as { code: string; message: string };
  assert.equal(body.code, "unimplemented");
  assert.match(body.message, /SendInput/);
  assert.equal(await sbx.isRunning(), true);
});

test("malformed Connect requests get Connect's invalid_argument, unary or in the stream's end frame", async () => {
  const call = (method: string, contentType: string, body: Uint8Array<ArrayBuffer> | string) =>
    fetch(`${process.env.E2B_API_URL}/${method}`, {
      method: "POST",
      headers: { "content-type": contentType, "e2b-sandbox-id": sbx.sandboxId, "e2b-sandbox-port": "49983", "x-api-key": process.env.E2B_API_KEY! },
      body: typeof body === "string" ? body : new Blob([body]),
    });
  const unary = async (res: Response, pattern: RegExp) => {
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "invalid_argument");
    assert.match(body.message, pattern);
  };
  await unary(await call("process.Process/Start", "application/json", "{}"), /server-streaming call/);
  await unary(await call("filesystem.Filesystem/Stat", "text/plain", "{}"), /Connect JSON codec/);
  await unary(await call("filesystem.Filesystem/Stat", "application/json", "{}"), /path is required/);
  await unary(await call("filesystem.Filesystem/Stat", "application/json", "{oops"), /JSON/);
  await unary(await call("process.Process/SendSignal", "application/json", JSON.stringify({ process: { pid: 1 }, signal: "SIGNAL_SIGHUP" })), /SIGNAL_SIGTERM or SIGNAL_SIGKILL/);
  // A stream's error comes in its end-of-stream frame (flag 0x02) with HTTP 200.
  const truncated = new Uint8Array([0, 0, 0, 0, 99, 0x7b]);
  const res = await call("filesystem.Filesystem/WatchDir", "application/connect+json", truncated);
  assert.equal(res.status, 200);
  const frame = Buffer.from(await res.arrayBuffer());
  assert.equal(frame.readUInt8(0), 0x02);
  const end = JSON.parse(frame.subarray(5, 5 + frame.readUInt32BE(1)).toString()) as { error: { code: string; message: string } };
  assert.equal(end.error.code, "invalid_argument");
  assert.match(end.error.message, /envelope says 99 bytes/);
  await assert.rejects(sbx.files.list(""), (e: Error) => e instanceof SandboxError);
  assert.equal(await sbx.isRunning(), true);
});

test("E2B's routing headers and Host never take a /v1/ path: the REST API answers it", async () => {
  const base = new URL(process.env.PODFLARE_HOSTD_URL || "http://127.0.0.1:7171");
  const id = sbx.sandboxId;
  const cases: Record<string, string>[] = [{ "e2b-sandbox-id": id }, { "e2b-sandbox-id": id, "e2b-sandbox-port": "49999" }, { host: `49983-${id}.example.test` }];
  for (const headers of cases) {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.get({ host: base.hostname, port: base.port, path: "/v1/sandboxes", headers, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
    });
    if (headers.host) {
      // This hostd has auth off: a Host that is not a loopback name is a rebinding page's, and
      // the REST API refuses it in its own envelope (E2B's Host form passes for envd paths only).
      assert.equal(status, 403, `${JSON.stringify(headers)}: ${text}`);
      assert.equal((JSON.parse(text) as { code?: string }).code, "forbidden", text);
      continue;
    }
    assert.equal(status, 200, `${JSON.stringify(headers)}: ${text}`);
    const body = JSON.parse(text) as { sandboxes?: { id: string }[] };
    assert.ok(body.sandboxes?.some((s) => s.id === id), text);
  }
});
