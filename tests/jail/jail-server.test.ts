// The jail server (jail/server.py): one privileged process forks a child per launch/enter
// request. It must be replaced when it dies without taking sandboxes with it, end with the
// process that started it, answer no one but root, and leave no descriptor of its own in a
// sandbox.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { JailFixture, newId, sleep } from "./helpers.js";
import { isAlive, jailServer, processStartTime } from "./jail.js";

const JAIL_INDEX = new URL("../../../packages/hostd/dist/jail/index.js", import.meta.url).href;

/** Gone or a zombie (an orphan waits for the host's pid 1 to reap it). */
async function waitGone(pid: number, timeoutMs = 3000): Promise<boolean> {
  const start = processStartTime(pid);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (start === null || !isAlive(pid, start)) return true;
    await sleep(10);
  }
  return false;
}

/** What a process's descriptors point at, by number (host view, as root). */
function fdTargets(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/**
 * Waits (polled, with a deadline) until a started /bin/sleep sleeps: before that it may still be
 * starting, with the locale files it reads open for a moment; they are not the jail's.
 */
async function asleep(pid: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.readFileSync(`/proc/${pid}/wchan`, "utf8").includes("nanosleep")) {
    if (Date.now() > deadline) assert.fail(`process ${pid} did not reach its sleep in ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe("jail server", () => {
  let fx: JailFixture;

  before(() => {
    fx = new JailFixture();
  });

  after(async () => {
    await fx?.cleanup();
  });

  test("a killed jail server is replaced on the next request; sandboxes it started keep running", async () => {
    const first = await fx.launch();
    const pid = jailServer().pid;
    assert.ok(pid, "no jail server after a launch");
    process.kill(pid, "SIGKILL");
    assert.ok(await waitGone(pid), "the jail server did not die");
    const second = await fx.launch();
    const replacement = jailServer().pid;
    assert.ok(replacement && replacement !== pid, "the jail server was not replaced");
    assert.ok(isAlive(first.initPid, first.initStartTime), "a sandbox died with the jail server");
    assert.equal((await fx.sh(first, "echo still here")).stdout, "still here\n");
    assert.equal((await fx.sh(second, "echo new")).stdout, "new\n");
    await fx.destroy(first.id);
    await fx.destroy(second.id);
  });

  test("inits and processes it starts hold only /dev/null (and the kernel's socket when asked)", async () => {
    const sb = await fx.launch();
    const { pid } = await fx.start(sb, ["/bin/sleep", "100"]);
    await asleep(pid);
    for (const [who, p] of [["init", sb.initPid], ["family init", sb.familyPid], ["process", pid]] as const) {
      const fds = fdTargets(p);
      assert.deepEqual(Object.keys(fds).sort(), ["0", "1", "2"], `${who} holds ${JSON.stringify(fds)}`);
      for (const target of Object.values(fds)) assert.equal(target, "/dev/null", `${who} holds ${JSON.stringify(fds)}`);
    }
    const sock = `${fx.work}/k-${newId()}.sock`;
    const k = await fx.start(sb, ["/bin/sleep", "101"], { listenSocket: sock });
    await asleep(k.pid);
    const fds = fdTargets(k.pid);
    assert.deepEqual(Object.keys(fds).sort(), ["0", "1", "2", "3"], JSON.stringify(fds));
    assert.match(fds["3"]!, /^socket:/);
    await fx.destroy(sb.id);
  });

  test("only root gets an answer: its socket is out of reach of other users", async () => {
    await fx.launch().then((sb) => fx.destroy(sb.id));
    const socketPath = jailServer().socketPath;
    assert.ok(socketPath && fs.existsSync(socketPath));
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o600);
    const script = `const s = require("net").createConnection(${JSON.stringify(socketPath)});
      s.on("connect", () => { s.end(JSON.stringify({ op: "enter", config: {} })); });
      let out = ""; let error; s.on("data", (d) => (out += d));
      s.on("error", (e) => (error = e.code));
      s.on("close", () => console.log(JSON.stringify({ out, error })));`;
    const r = spawnSync(process.execPath, ["-e", script], { uid: 65534, gid: 65534, encoding: "utf8", timeout: 10_000 });
    const res = JSON.parse(r.stdout.trim()) as { out?: string; error?: string };
    assert.equal(res.out ?? "", "", "a non-root peer got an answer");
    assert.equal(res.error, "EACCES");
  });

  test("the jail server ends with the process that started it, and removes its socket", () => {
    const script = `const j = await import(${JSON.stringify(JAIL_INDEX)});
      const s = j.jailServer();
      await s.request("enter", {}, 10_000);
      const info = { pid: s.pid, startTime: j.processStartTime(s.pid), socket: s.socketPath };
      process.stdout.write(JSON.stringify(info) + "\\n", () => process.kill(process.pid, "SIGKILL"));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const { pid, startTime, socket } = JSON.parse(child.stdout.trim()) as { pid: number; startTime: string; socket: string };
    return (async () => {
      const deadline = Date.now() + 3000;
      while (isAlive(pid, startTime) && Date.now() < deadline) await sleep(10);
      assert.ok(!isAlive(pid, startTime), "the jail server outlived the process that started it");
      assert.ok(!fs.existsSync(socket), "its socket was left behind");
    })();
  });
  /** A process that starts a jail server and reports it, then waits: the caller ends both. */
  function serverInChild(): { child: ChildProcess; info: Promise<{ pid: number; startTime: string; socket: string }> } {
    const script = `const j = await import(${JSON.stringify(JAIL_INDEX)});
      const s = j.jailServer();
      await s.request("enter", {}, 10_000);
      process.stdout.write(JSON.stringify({ pid: s.pid, startTime: j.processStartTime(s.pid), socket: s.socketPath }) + "\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const info = new Promise<{ pid: number; startTime: string; socket: string }>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(JSON.parse(out.trim()));
      });
      child.once("exit", (code) => reject(new Error(`the child exited (${code}) before its jail server answered`)));
    });
    return { child, info };
  }

  test("a jail server sent SIGTERM (a service manager stopping hostd's group) removes its socket's directory", async () => {
    const { child, info } = serverInChild();
    try {
      const { pid, socket } = await info;
      // Its hostd stopped meanwhile (it is being stopped too): the server must clean up itself.
      child.kill("SIGSTOP");
      process.kill(pid, "SIGTERM");
      assert.ok(await waitGone(pid), "the jail server did not end on SIGTERM");
      assert.ok(!fs.existsSync(path.dirname(socket)), `its directory ${path.dirname(socket)} was left behind`);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("the directory of a jail server killed outright with its hostd is removed when the next jail server starts; a live one's stays", async () => {
    const { child, info } = serverInChild();
    const { pid, socket } = await info;
    // SIGKILL to both, as to a whole group: nothing of theirs removes the directory.
    process.kill(pid, "SIGKILL");
    child.kill("SIGKILL");
    assert.ok(await waitGone(pid), "the jail server did not die of SIGKILL");
    const dir = path.dirname(socket);
    assert.ok(fs.existsSync(dir), "the killed server's directory is there to be swept");
    // Older than any server takes to start (a younger one may be a server starting).
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(dir, old, old);
    const live = jailServer().socketPath;
    const next = serverInChild();
    try {
      await next.info;
      assert.ok(!fs.existsSync(dir), `the stale directory ${dir} is still there after a jail server started`);
      if (live) assert.ok(fs.existsSync(live), "a live jail server's socket was removed");
    } finally {
      next.child.kill("SIGKILL");
    }
  });
});
