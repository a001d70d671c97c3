// The sandbox outlives whoever launched it, takes any number of kernel (re)starts, hands the
// kernel its listening socket, freezes, and disappears completely when killed and removed.
// (Launch and enter latency are figures of bench/limits.mjs.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { eventually } from "../support/host.js";
import { JailFixture, UID_BASE, UID_COUNT, lines, newId, sleep, type TestSandbox } from "./helpers.js";
import { JailError, configureGuestLinks, isAlive, processStartTime, startKernel } from "./jail.js";

const JAIL_INDEX = new URL("../../../packages/hostd/dist/jail/index.js", import.meta.url).href;

function statField(pid: number, field: number): string | undefined {
  const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[field - 3];
}

async function waitGone(pid: number, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processStartTime(pid) === null) return true;
    await sleep(10);
  }
  return false;
}

/** Runs the freeze test's counter loop on the host, unfrozen, until it has ticked `ticks` times. */
async function countTicks(counter: string, ticks: number): Promise<number> {
  const loop = spawn("/bin/bash", ["-c", `i=0; while :; do i=$((i+1)); echo $i > ${counter}; sleep 0.02; done`], { stdio: "ignore", detached: true });
  const read = () => (fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8").trim() || 0) : 0);
  try {
    await eventually(() => read() >= ticks, `the host's twin of the counter loop did not tick ${ticks} times`, 10_000);
    return read();
  } finally {
    process.kill(-loop.pid!, "SIGKILL"); // its group: bash and its current sleep
    fs.rmSync(counter, { force: true });
  }
}

/** No `sleep 0.1` left running and no zombie in the sandbox: its inits reaped the orphans. */
async function orphansReaped(fx: JailFixture, sb: TestSandbox): Promise<boolean> {
  const ps = lines((await fx.run(sb, ["/bin/ps", "-e", "-o", "stat=,args="])).stdout);
  return !ps.some((l) => l.startsWith("Z") || l.includes("sleep 0.1"));
}

describe("jail lifecycle", () => {
  let fx: JailFixture;

  before(() => {
    fx = new JailFixture();
  });

  after(async () => {
    await fx?.cleanup();
  });

  test("the init survives the death of the process that launched it", async () => {
    const id = newId();
    fx.cg.create(id, { memoryMb: 256, vcpus: 1, pidsMax: 256 });
    fx.track(id);
    const spec = { id, rootfs: fx.rootfs, guestDir: fx.guestDir, uidBase: UID_BASE, uidCount: UID_COUNT, cgroupProcs: fx.cg.procsFiles(id) };
    // A stand-in for hostd: launches, prints the handle, and dies by SIGKILL.
    const script = `const j = await import(${JSON.stringify(JAIL_INDEX)});
      const r = await j.launchSandbox(JSON.parse(process.argv[1]));
      process.stdout.write(JSON.stringify(r) + "\\n", () => process.kill(process.pid, "SIGKILL"));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(spec)], { encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const init = JSON.parse(child.stdout.trim()) as { initPid: number; initStartTime: string; familyPid: number; familyStartTime: string };
    // A command run inside after the launcher is gone (and reaped by spawnSync) needs the init.
    const sb: TestSandbox = { id, cgroupProcs: spec.cgroupProcs, ...init };
    const r = await fx.sh(sb, "echo alive");
    assert.equal(r.stdout.trim(), "alive");
    assert.ok(isAlive(init.initPid, init.initStartTime), "init died with its launcher");
    assert.notEqual(Number(statField(init.initPid, 4)), child.pid, "init is still the launcher's child");
    assert.equal(Number(statField(init.initPid, 6)), init.initPid, "init is not a session leader of its own");
    await fx.destroy(id);
  });

  test("kernels can be started again and again; dead ones are reaped by the family init", async () => {
    const sb = await fx.launch();
    const first = await fx.start(sb, ["/bin/sleep", "1000"]);
    // Once its enter parent is gone the kernel belongs to the family init (pid 1 of the
    // family pid namespace), which reaps it.
    assert.equal(Number(statField(first.pid, 4)), sb.familyPid);
    process.kill(first.pid, "SIGKILL"); // a crash
    assert.ok(await waitGone(first.pid), "the dead kernel was not reaped");
    const second = await fx.start(sb, ["/bin/sleep", "1001"]);
    const third = await fx.start(sb, ["/bin/sleep", "1002"]);
    const ps = await fx.run(sb, ["/bin/ps", "-e", "-o", "args="]);
    assert.deepEqual(lines(ps.stdout).filter((l) => l.startsWith("/bin/sleep")).sort(), ["/bin/sleep 1001", "/bin/sleep 1002"]);
    // Background children of a finished command are adopted and reaped too.
    await fx.sh(sb, "(sleep 0.1 &) ; (sleep 0.1 &)");
    await eventually(() => orphansReaped(fx, sb), "the orphaned children ran on or were left as zombies inside the sandbox");
    process.kill(second.pid, "SIGKILL");
    process.kill(third.pid, "SIGKILL");
    await fx.destroy(sb.id);
  });

  test("the family init and the sandbox init are the tiny reaper program: kilobytes, named, execute-only", async () => {
    const sb = await fx.launch();
    for (const [pid, name] of [[sb.initPid, "podflare-init"], [sb.familyPid, "podflare-family"]] as const) {
      // An init says it is ready just before it execs the reaper program: wait for the exec.
      const rssOf = (): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      await eventually(() => rssOf() < 100 && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") === `${name}\0`, `${name} did not become the reaper program`).catch(() => undefined);
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      assert.match(status, new RegExp(`^Name:\\s+${name}$`, "m"));
      const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
      assert.ok(rssKb < 100, `${name} holds ${rssKb} kB: it is still the forked Python, not the reaper program`);
      assert.equal(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"), `${name}\0`);
      // The program file is execute-only for everyone but host root: inits cannot read it, so
      // the kernel keeps them non-dumpable across the exec.
      const exe = fs.statSync(`/proc/${pid}/exe`);
      assert.equal(exe.mode & 0o777, 0o111);
      assert.equal(exe.uid, 0);
    }
    // Still reaps: a command's orphaned background child leaves no zombie (see the test above).
    await fx.sh(sb, "(sleep 0.1 &)");
    await eventually(() => orphansReaped(fx, sb), "the orphaned child ran on or was left as a zombie inside the sandbox");
    await fx.destroy(sb.id);
  });

  test("enter refuses a pid whose start time does not match (pid reuse)", async () => {
    const sb = await fx.launch();
    await assert.rejects(
      startKernel({ initPid: sb.initPid, initStartTime: Number(sb.initStartTime) + 1, cgroupProcs: sb.cgroupProcs, argv: ["/bin/true"] }),
      (err: unknown) => err instanceof JailError && /gone/.test(err.message),
    );
    await assert.rejects(
      startKernel({ initPid: sb.initPid, initStartTime: sb.initStartTime, cgroupProcs: sb.cgroupProcs, argv: ["/no/such/program"] }),
      /no\/such\/program/,
    );
    await fx.destroy(sb.id);
  });

  test("netcfg configures eth0 inside the init's network namespace, and refuses a reused pid", async () => {
    const sb = await fx.launch();
    const inNs = (args: string[]) => spawnSync("nsenter", [`--net=/proc/${sb.initPid}/ns/net`, "ip", ...args], { encoding: "utf8" });
    // The router is not needed to check the sandbox end: a veth pair inside the namespace
    // gives it an eth0 (its peer brought up so eth0's carrier is on).
    const made = inNs(["link", "add", "eth0", "type", "veth", "peer", "name", "peer0"]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(inNs(["link", "set", "peer0", "up"]).status, 0);
    const link = { pid: sb.initPid, address: "10.250.0.2", gateway: "10.250.0.1" };
    await assert.rejects(
      configureGuestLinks([{ ...link, startTime: Number(sb.initStartTime) + 1 }]),
      (err: unknown) => err instanceof JailError && /init is gone/.test(err.message),
    );
    assert.doesNotMatch(inNs(["-4", "addr", "show", "eth0"]).stdout, /10\.250\.0\.2/, "configured a namespace it was refused");
    await configureGuestLinks([{ ...link, startTime: Number(sb.initStartTime) }]);
    assert.match(inNs(["-4", "addr", "show", "eth0"]).stdout, /inet 10\.250\.0\.2\/32 .*eth0/);
    assert.match(inNs(["-o", "link", "show", "eth0"]).stdout, /[<,]UP[,>]/);
    assert.match(inNs(["route", "show"]).stdout, /default via 10\.250\.0\.1 dev eth0/);
    // The host's own routes are untouched: the helper left the sandbox's namespace behind it.
    assert.doesNotMatch(spawnSync("ip", ["route", "show"], { encoding: "utf8" }).stdout, /10\.250\.0\.1/);
    await fx.destroy(sb.id);
  });

  test("the kernel gets its listening socket as fd 3; only root can connect on the host", async () => {
    const sb = await fx.launch();
    const sock = path.join(fx.work, "kernel.sock");
    const server = [
      "import os, socket",
      "s = socket.socket(fileno=int(os.environ['PODFLARE_LISTEN_FD']))",
      "c, _ = s.accept()",
      "c.sendall(b'hello from ' + socket.gethostname().encode() + b' ' + c.recv(100))",
    ].join("\n");
    const { pid } = await fx.start(sb, ["/usr/bin/python3", "-c", server], { listenSocket: sock });
    const st = fs.statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 0);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect(sock, () => c.write("host"));
      let data = "";
      c.on("data", (b) => (data += b.toString()));
      c.on("end", () => resolve(data));
      c.on("error", reject);
    });
    assert.equal(reply, `hello from ${sb.id} host`);
    assert.ok(await waitGone(pid));
    await fx.destroy(sb.id);
  });

  test("freeze stops every process in the sandbox, thaw resumes them", async () => {
    const sb = await fx.launch();
    await fx.start(sb, ["/bin/bash", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.02; done"]);
    const counter = path.join(fx.rootfs, "tmp/counter");
    const read = () => (fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8").trim() || 0) : 0);
    await eventually(() => read() > 2, "the counter loop never ran");
    await fx.cg.freeze(sb.id);
    const frozenAt = read();
    // Long enough for a running loop to tick 15 times, counted by the same loop running
    // unfrozen on the host (a loaded host slows both alike).
    const twinTicks = await countTicks(path.join(fx.work, "twin-counter"), 15);
    assert.equal(read(), frozenAt, `a frozen sandbox kept running while its unfrozen twin ticked ${twinTicks} times`);
    await fx.cg.thaw(sb.id);
    await eventually(() => read() > frozenAt, "a thawed sandbox did not resume");
    await fx.destroy(sb.id);
  });

  test("killAll + remove leave no process and no cgroup directory", async () => {
    const sb = await fx.launch();
    await fx.start(sb, ["/bin/sleep", "1000"]);
    await fx.sh(sb, "(sleep 1000 &)");
    assert.ok(fx.cg.listIds().includes(sb.id));
    assert.ok(fx.cg.pids(sb.id).length >= 3);
    await fx.cg.killAll(sb.id);
    assert.deepEqual(fx.cg.pids(sb.id), []);
    assert.ok(!isAlive(sb.initPid, sb.initStartTime));
    await fx.cg.remove(sb.id);
    for (const d of fx.cg.dirs(sb.id)) assert.ok(!fs.existsSync(d), `${d} left behind`);
    assert.ok(!fx.cg.listIds().includes(sb.id));
    await fx.cg.killAll(sb.id); // both idempotent on a missing group
    await fx.cg.remove(sb.id);
    // An exec whose sandbox was closed under it asks for OOM kills after the removal (the soak
    // bench crashed hostd that way): a missing group has had none.
    assert.equal(fx.cg.oomKillCount(sb.id), 0);
  });
});
