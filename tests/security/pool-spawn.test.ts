// The warm pool's spawn (docs/security.md, "Warm pool spawn"): pooled sandboxes are forked from
// a pristine zygote kernel, each into a user and pid namespace of its own nested below the
// zygote's family. These tests try to reach from one pooled sandbox into another or into the
// zygote, and check that a spawned sandbox outlives its zygote and hostd restarts, and that
// the zygote's family goes with the last sandbox spawned in it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager } from "@podflare/hostd/jail";
import { api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { childrenOf, eventually } from "../support/host.js";

const { stateDir, port } = ownHostd("pool-spawn", 14);
const env = { PODFLARE_POOL_SIZE: "3" };
let hostd: TestHostd;
const cgroups = new CgroupManager({ parent: cgroupParentFor(stateDir) });

interface Capacity { sandboxes: number; pool: { size: number; free: number; hits: number; refill: string } }
const capacity = async () => (await (await api("GET", "/v1/capacity", undefined, hostd.url)).json()) as Capacity;

async function poolFull(): Promise<Capacity> {
  for (let i = 0; i < 600; i++) {
    const cap = await capacity();
    if (cap.pool.free >= cap.pool.size) return cap;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the warm pool did not fill:\n${hostd.log().slice(-3000)}`);
}

async function closeAll(): Promise<void> {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes) await closeSandbox(s.id, hostd.url);
}

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env });
  await closeAll();
});

after(async () => {
  await closeAll();
  await hostd.stop();
  teardownStateDir(stateDir);
});

/** NSpid of a host pid: its pid in each pid namespace from the host's down. */
function nsPids(pid: number): number[] {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return /^NSpid:\s+(.*)$/m.exec(status)![1]!.trim().split(/\s+/).map(Number);
}

function ppid(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

/** Running: exists and is not a zombie waiting for the host's pid 1 to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Host pid of a sandbox's guest kernel: the process of its cgroup whose command is python3 -c …main(). */
function kernelPid(id: string): number {
  for (const pid of cgroups.pids(id)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("podflare_guest.main")) return pid;
    } catch {
      /* gone */
    }
  }
  throw new Error(`no guest kernel in ${id}`);
}

const PROBE = `
import os, json
def ns(n): return os.readlink(f"/proc/self/ns/{n}")
reach = []
for pid in range(1, 4000):
    try:
        os.kill(pid, 0)
        reach.append(pid)
    except ProcessLookupError:
        pass
    except PermissionError:
        reach.append(pid)
print(json.dumps({"user": ns("user"), "pid": ns("pid"), "me": os.getpid(), "reach": reach,
                  "globals": sorted(k for k in globals() if not k.startswith("_") and k not in ("os", "json", "ns", "reach", "pid"))}))
`;

test("pooled sandboxes are spawned into user and pid namespaces of their own: none reaches another or the zygote", async () => {
  const cap = await poolFull();
  assert.equal(cap.pool.refill, "spawn", "the pool does not spawn on this host");
  const a = await createSandbox({}, hostd.url);
  const b = await createSandbox({}, hostd.url);
  const probe = async (id: string) => JSON.parse((await exec(id, PROBE, {}, hostd.url)).stdout) as { user: string; pid: string; me: number; reach: number[]; globals: string[] };
  const [pa, pb] = [await probe(a), await probe(b)];
  assert.notEqual(pa.user, pb.user, "two pooled sandboxes share a user namespace");
  assert.notEqual(pa.pid, pb.pid, "two pooled sandboxes share a pid namespace");
  // In its own namespace a sandbox addresses only its own family: the family init, its init,
  // its kernel and the kernel's threads (small pids); nothing of the zygote's or the other's.
  for (const p of [pa, pb]) assert.ok(p.reach.length <= 16 && p.reach.every((pid) => pid < 50), `reachable pids: ${p.reach.join(" ")}`);
  // From the host: each kernel is nested one level below the zygote's family, whose kernel
  // forked it; the zygote is in no sandbox of the API.
  const [ka, kb] = [kernelPid(a), kernelPid(b)];
  assert.equal(nsPids(ka).length, 3);
  assert.equal(nsPids(ka).at(-1), pa.me);
  const zygote = ppid(ka);
  assert.equal(ppid(kb), zygote, "both were not forked by one zygote");
  assert.equal(nsPids(zygote).length, 2);
  const listed = ((await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
  assert.deepEqual(listed.sort(), [a, b].sort(), "the zygote or a pooled sandbox shows in the API");
  // Signals and ptrace by the host pid numbers fail too: those pids do not exist in a sandbox's namespace.
  const r = await exec(a, `
import os, ctypes
libc = ctypes.CDLL(None, use_errno=True)
out = []
for pid in (${zygote}, ${kb}):
    try:
        os.kill(pid, 9); out.append("killed")
    except ProcessLookupError:
        out.append("ESRCH")
    except PermissionError:
        out.append("EPERM")
    out.append("attached" if libc.ptrace(16, pid, 0, 0) == 0 else os.strerror(ctypes.get_errno()))
print(out)`, {}, hostd.url);
  assert.ok(!r.stdout.includes("killed") && !r.stdout.includes("attached"), r.stdout + r.stderr);
  assert.ok(alive(zygote) && alive(kb));
  // Never ran anyone's code: the REPL holds exactly what a cold-booted one holds.
  const cold = await createSandbox({ memory_mb: 512 }, hostd.url);
  const pc = await probe(cold);
  assert.deepEqual(pa.globals, pc.globals);
  assert.deepEqual(pa.globals, []);
  await exec(a, "secret = 'a'", {}, hostd.url);
  assert.match((await exec(b, "print('secret' in globals())", {}, hostd.url)).stdout, /False/);
  // Nothing was written into a pooled sandbox's root: resolv.conf is the template's own file
  // (hostd writes it into the template at start), so the root is a bare snapshot.
  const resolv = (root: string) => fs.statSync(`${stateDir}/pool/${root}/etc/resolv.conf`);
  assert.match(fs.readFileSync(`${stateDir}/pool/templates/default/etc/resolv.conf`, "utf8"), /written by podflare/);
  for (const id of [a, b]) assert.equal(resolv(`sandboxes/${id}`).mtimeMs, resolv("templates/default").mtimeMs, `${id}'s resolv.conf was rewritten`);
  // Files are each sandbox's own root.
  await bash(a, "echo mine > /root/note", {}, hostd.url);
  assert.equal((await bash(b, "cat /root/note 2>&1 || echo absent", {}, hostd.url)).stdout, "cat: /root/note: No such file or directory\nabsent\n");
  for (const id of [a, b, cold]) await closeSandbox(id, hostd.url);
});

test("a pooled sandbox cannot leave zombies on the zygote: CLONE_PARENT is refused, and a kernel that made the zygote its tracer is let go and reaped once closed", async () => {
  await poolFull();
  const a = await createSandbox({}, hostd.url);
  const zygote = ppid(kernelPid(a));
  // clone(CLONE_PARENT | SIGCHLD) 700 times (outside tester te): each exited child was a zombie
  // of the zygote that outlived the sandbox and held a pid of the shared limit.
  const siblings = await exec(a, `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
made = 0
for _ in range(700):
    r = libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    made += r > 0
print(made, os.strerror(ctypes.get_errno()))`, {}, hostd.url);
  assert.equal(siblings.stdout, "0 Operation not permitted\n", siblings.stderr);
  // PTRACE_TRACEME makes the kernel's parent, the zygote, its tracer; a signal then stops it.
  const traced = await exec(a, `
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
print(libc.ptrace(0, 0, None, None))
os.kill(os.getpid(), signal.SIGURG)
print("went on")`, {}, hostd.url);
  assert.equal(traced.stdout, "0\nwent on\n", `the zygote let the stopped kernel go on: ${traced.stderr}`);
  assert.equal((await exec(a, "print(6*7)", {}, hostd.url)).stdout, "42\n");
  await closeSandbox(a, hostd.url);
  await eventually(() => childrenOf(zygote, "Z").length === 0, `the zygote has no zombie children (${childrenOf(zygote, "Z").join(" ")})`, 15_000);
  assert.ok(alive(zygote), "the zygote lives on");
});

test("a spawned sandbox forks, survives its zygote, SIGTERM and kill -9 of hostd, and restarts its killed kernel; the zygote's family goes with the last of its sandboxes", async () => {
  await poolFull();
  const s = await createSandbox({}, hostd.url);
  await exec(s, "x = 41", {}, hostd.url);
  await bash(s, "echo kept > /root/file", {}, hostd.url);
  const zygote = ppid(kernelPid(s));
  // The sandbox's own family init is pid 1 of its namespace; its parent is the zygote's family init.
  const ownInit = (() => {
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number)) {
      try {
        const ns = nsPids(pid);
        if (ns.length === 3 && ns[2] === 1 && fs.readlinkSync(`/proc/${pid}/ns/pid`) === fs.readlinkSync(`/proc/${kernelPid(s)}/ns/pid`)) return pid;
      } catch {
        /* gone */
      }
    }
    throw new Error("no family init for the spawned sandbox");
  })();
  const outerInit = ppid(ownInit);
  assert.equal(nsPids(outerInit).length, 2);
  assert.equal(nsPids(outerInit)[1], 1, "the spawned family is not nested in the zygote's family");
  // Fork: the children live in the spawned sandbox's own family.
  const res = await api("POST", `/v1/sandboxes/${s}/fork`, { n: 2 }, hostd.url);
  assert.equal(res.status, 200, await res.clone().text());
  const [c1, c2] = ((await res.json()) as { children: string[] }).children as [string, string];
  assert.equal((await exec(c1, "x += 1; print(x)", {}, hostd.url)).stdout, "42\n");
  assert.equal(nsPids(kernelPid(c2)).length, 3);
  assert.equal(fs.readlinkSync(`/proc/${kernelPid(c2)}/ns/user`), fs.readlinkSync(`/proc/${kernelPid(s)}/ns/user`));
  // hostd stops: the pool and the zygote go, the sandbox and its family stay.
  await hostd.stop("SIGTERM");
  assert.ok(!alive(zygote), "the zygote outlived hostd's stop");
  assert.ok(alive(outerInit), "the zygote's family init died with the zygote while a spawned sandbox lives");
  hostd = await startTestHostd({ stateDir, port, env });
  assert.equal((await exec(s, "print(x)", {}, hostd.url)).stdout, "41\n");
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port, env });
  assert.equal((await exec(s, "print(x)", {}, hostd.url)).stdout, "41\n");
  assert.equal((await exec(c2, "print(x)", {}, hostd.url)).stdout, "41\n");
  assert.ok(alive(outerInit));
  // A killed kernel is restarted inside the spawned sandbox's namespaces, its files intact.
  process.kill(kernelPid(s), "SIGKILL");
  await eventually(() => {
    try {
      kernelPid(s);
      return false;
    } catch {
      return true;
    }
  }, "the kernel to die");
  // The call that finds the kernel dead says so (if hostd had not noticed yet); the next runs
  // in a fresh kernel inside the same namespaces, with the sandbox's files.
  const first = await exec(s, "print('x' in globals(), open('/root/file').read().strip())", {}, hostd.url);
  const again = first.stdout ? first : await exec(s, "print('x' in globals(), open('/root/file').read().strip())", {}, hostd.url);
  if (!first.stdout) assert.match(first.stderr, /the REPL process died; it was restarted with empty state/);
  assert.equal(again.stdout, "False kept\n", again.stderr);
  assert.equal(nsPids(kernelPid(s)).length, 3);
  await closeSandbox(s, hostd.url);
  await closeSandbox(c1, hostd.url);
  assert.ok(alive(outerInit), "the zygote's family went while a spawned sandbox (a fork child) lives");
  await closeSandbox(c2, hostd.url);
  await eventually(() => !alive(outerInit), "the zygote's family init to go with its last sandbox", 10_000);
  assert.ok(!alive(ownInit));
});

test("a spawned sandbox has used one fork generation: 13 more are allowed, then a clear 409", async () => {
  await poolFull();
  const root = await createSandbox({}, hostd.url);
  const chain: string[] = [];
  let cur = root;
  let refused: Response | null = null;
  for (let gen = 1; gen <= 16; gen++) {
    const res = await api("POST", `/v1/sandboxes/${cur}/fork`, { n: 1 }, hostd.url);
    if (res.status !== 200) {
      refused = res;
      break;
    }
    cur = ((await res.json()) as { children: string[] }).children[0]!;
    chain.push(cur);
  }
  assert.ok(refused, "16 generations of fork were allowed");
  assert.equal(refused.status, 409);
  assert.match(((await refused.json()) as { error: string }).error, /fork depth limit reached/);
  assert.equal(chain.length, 13);
  for (const id of [...chain].reverse()) await closeSandbox(id, hostd.url);
  await closeSandbox(root, hostd.url);
});
