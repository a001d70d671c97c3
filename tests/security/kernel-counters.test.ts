// Per-user kernel counters (docs/security.md, "Per-user kernel counters"): namespaces and
// inotify instances are counted per user and charged up the user-namespace tree. Before the
// fix a sandbox that made UTS namespaces until refused left host root with none (hostd could
// create no sandbox for anyone), and one holding 128 inotify instances left every other
// sandbox and host root without. Each attack below runs in a real sandbox of the shared hostd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { SandboxPool, api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";

const pool = new SandboxPool();
let a: string;
let b: string;

before(async () => {
  [a, b] = await Promise.all([pool.create(), pool.create()]);
});
after(() => pool.closeAll());

/** Python (host or sandbox): inotify instances made and held until refused, at most `max`. */
const INOTIFY = (max: number) => `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
ino, err = [], "none"
while len(ino) < ${max}:
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        err = os.strerror(ctypes.get_errno()); break
    ino.append(fd)
print(len(ino), err)
`;

function hostPython(code: string): string {
  const r = spawnSync("python3", ["-c", code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test("a sandbox making namespaces until refused gets its family's share: host root and other sandboxes still make theirs", async () => {
  // Seven holders of up to 16,000 UTS namespaces each: more than the host allows one user
  // (user.max_uts_namespaces, 96,555 here), so without a family ceiling they take it all.
  const held = await exec(a, `
import subprocess, sys
HOLDER = r'''
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds, err = [], "none"
for _ in range(16000):
    if libc.unshare(0x04000000) != 0:
        err = os.strerror(ctypes.get_errno()); break
    fds.append(os.open("/proc/self/ns/uts", os.O_RDONLY))
print(len(fds), err, flush=True)
time.sleep(600)
'''
holders = [subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True) for _ in range(7)]
lines = [h.stdout.readline().strip() for h in holders]
print(sum(int(l.split(" ", 1)[0]) for l in lines), lines[0].split(" ", 1)[1])
`, { timeout_ms: 180_000 });
  assert.equal(held.exitCode, 0, held.stderr);
  const [count, err] = held.stdout.trim().split(" ", 2);
  try {
    assert.ok(Number(count) > 0 && Number(count) < 200, `the sandbox held ${count} UTS namespaces: its family's ceiling did not hold`);
    assert.match(held.stdout, /No space left on device/, `refused with ENOSPC: ${err}`);
    const other = await bash(b, "unshare --uts true && echo made");
    assert.equal(other.stdout, "made\n", `another sandbox could not make a namespace: ${other.stderr}`);
    const root = spawnSync("unshare", ["--uts", "true"], { encoding: "utf8" });
    assert.equal(root.status, 0, `host root could not make a namespace: ${root.stderr}`);
  } finally {
    await exec(a, "for h in holders: h.kill(); h.wait()");
  }
});

test("a sandbox holding every inotify instance it can leaves other sandboxes and host root theirs", async () => {
  const held = await exec(a, INOTIFY(50_000));
  assert.equal(held.exitCode, 0, held.stderr);
  const [count] = held.stdout.trim().split(" ");
  try {
    assert.ok(Number(count) > 0 && Number(count) <= 128, `the sandbox held ${count} inotify instances`);
    assert.match(held.stdout, /Too many open files/);
    const other = await exec(b, INOTIFY(16));
    assert.equal(other.stdout.trim(), "16 none", "another sandbox could not make inotify instances");
    assert.equal(hostPython(INOTIFY(4)), "4 none", "host root could not make inotify instances");
  } finally {
    await exec(a, "for fd in ino: os.close(fd)");
  }
});

/** Python: queue real-time signals to itself (blocked) until refused or `max`; prints "n err". */
const QUEUE_SIGNALS = (max: number, hold: boolean) => `
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
n, err = 0, "none"
while n < ${max}:
    if libc.sigqueue(os.getpid(), signal.SIGRTMIN, ctypes.c_void_p(0)) != 0:
        err = os.strerror(ctypes.get_errno()); break
    n += 1
print(n, err, flush=True)
${hold ? "time.sleep(600)" : ""}
`;

/** Python: POSIX message queues of maxmsg x msgsize opened and held until refused or `max`. */
const OPEN_QUEUES = (max: number, maxmsg: number, msgsize: number, hold: boolean) => `
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]
libc.mq_open.restype = ctypes.c_int
libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(Attr)]
qs, err = [], "none"
while len(qs) < ${max}:
    attr = Attr(0, ${maxmsg}, ${msgsize}, 0)
    fd = libc.mq_open(f"/pf{os.getpid()}_{len(qs)}".encode(), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, ctypes.byref(attr))
    if fd < 0:
        err = os.strerror(ctypes.get_errno()); break
    qs.append(fd)
print(len(qs), err, flush=True)
${hold ? "time.sleep(600)" : ""}
`;

/** Runs `code` in a subprocess of the sandbox's REPL (a signal queued to the REPL itself would end it); its output. */
async function inSubprocess(id: string, code: string): Promise<string> {
  const r = await exec(id, `
import subprocess, sys
done = subprocess.run([sys.executable, "-c", ${JSON.stringify(code)}], capture_output=True, text=True)
print(done.stdout.strip() or done.stderr.strip())
`, { timeout_ms: 60_000 });
  return r.stdout.trim();
}

/** Starts `code` in a held subprocess of the sandbox's REPL (named `name` there); its first line. */
async function hold(id: string, name: string, code: string): Promise<string> {
  const r = await exec(id, `
import subprocess, sys
${name} = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(code)}], stdout=subprocess.PIPE, text=True)
print(${name}.stdout.readline().strip())
`, { timeout_ms: 120_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim();
}

// Pooled sandboxes share the warm pool's zygote family's caps still (docs/security.md, "Limits
// and residual risks"): a pooled attacker is checked against a fresh sandbox and host root.
for (const attacker of ["pooled", "fresh"] as const) {
  const against = attacker === "pooled" ? "a fresh sandbox" : "other sandboxes (pooled and fresh)";
  test(`a ${attacker} sandbox holding every queued real-time signal and message-queue byte it can leaves ${against} and host root theirs`, async () => {
    // Both are counted per user and charged up the user-namespace tree to each namespace's
    // maker, capped there by the maker's rlimit: with one maker for all families, one sandbox
    // used them up for every other (docs/security.md, "Per-user kernel counters").
    const spare = await pool.create(); // pooled: spawned into the warm pool's zygote family
    const fresh = await pool.create({ env: { PF_FRESH: "1" } }); // a pool miss: a family of its own
    const attackerId = attacker === "pooled" ? a : fresh;
    const victims = attacker === "pooled" ? [fresh] : [b, spare];
    const signals = await hold(attackerId, "sigq", QUEUE_SIGNALS(1_000_000, true));
    const queues = await hold(attackerId, "mqs", OPEN_QUEUES(100_000, 10, 8192, true));
    try {
      assert.match(signals, /^\d+ Resource temporarily unavailable$/, `the attacker's signals were not refused: ${signals}`);
      assert.match(queues, /^\d+ Too many open files$/, `the attacker's queues were not refused: ${queues}`);
      for (const v of victims) {
        assert.equal(await inSubprocess(v, QUEUE_SIGNALS(64, false)), "64 none", `sandbox ${v} could not queue real-time signals`);
        assert.equal(await inSubprocess(v, OPEN_QUEUES(4, 1, 64, false)), "4 none", `sandbox ${v} could not open a message queue`);
      }
      assert.equal(hostPython(QUEUE_SIGNALS(4, false)), "4 none", "host root could not queue a real-time signal");
    } finally {
      await exec(attackerId, "sigq.kill(); sigq.wait(); mqs.kill(); mqs.wait()");
    }
  });
}

test("a sandbox registering epoll watches until refused is stopped by its memory, not by a count other sandboxes share", async () => {
  // Watches are counted per host uid (fs.epoll.max_user_watches, 5.5 M here): before hostd
  // raised it past what the sandboxes' memory can hold, one sandbox took them all in 1.5 s and
  // every asyncio program elsewhere failed with ENOSPC.
  const big = await createSandbox({ memory_mb: 2048 });
  const holder = [
    "import os, resource, select, sys, time",
    "resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))",
    "evs = [os.eventfd(0) for _ in range(5000)]",
    "eps, n, err = [], 0, 'none'",
    "try:",
    "    while len(eps) < 14000:",
    "        ep = select.epoll()",
    "        eps.append(ep)",
    "        for fd in evs:",
    "            ep.register(fd, select.EPOLLIN)",
    "            n += 1",
    "except OSError as e:",
    "    err = e.strerror",
    "print(n, err, flush=True)",
    "time.sleep(600)",
  ].join("\n");
  const held = await exec(big, `
import subprocess, sys
holder = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(holder)}], stdout=subprocess.PIPE, text=True)
print(holder.stdout.readline().strip() or "killed")
`, { timeout_ms: 120_000 });
  try {
    // Its memory limit ends it: epoll_ctl answers ENOMEM, or the OOM killer takes the REPL
    // (the watches are kernel memory, not the holder's RSS).
    assert.ok(/Cannot allocate memory/.test(held.stdout) || /MemoryError: the sandbox ran out of memory/.test(held.stderr),
      `the sandbox was not stopped by its memory: ${held.stdout} ${held.stderr.slice(-300)}`);
    assert.doesNotMatch(held.stdout, /No space left on device/, `the sandbox ran into the shared count: ${held.stdout}`);
    const other = await exec(b, "import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 'ran'\nprint(asyncio.run(main()))");
    assert.equal(other.stdout, "ran\n", `asyncio failed in another sandbox: ${other.stderr.slice(-300)}`);
  } finally {
    await closeSandbox(big);
  }
});

test("a sandbox holding large pipes leaves other sandboxes' pipes their normal size", async () => {
  // Pipe slots are counted per host uid too (fs.pipe-user-pages-soft, 16,384): past it, every
  // new pipe of that uid got 2 slots (8 KiB) and could not be enlarged.
  const held = await exec(a, `
import fcntl, os
pipes = []
for _ in range(200):
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
    pipes.append((r, w))
print(sum(fcntl.fcntl(w, fcntl.F_GETPIPE_SZ) for _, w in pipes) >> 20)
`);
  try {
    assert.equal(held.stdout, "200\n", held.stderr);
    const other = await exec(b, `
import fcntl, os
r, w = os.pipe()
before = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)
print(before, fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20))
`);
    assert.equal(other.stdout, `${64 * 1024} ${1 << 20}\n`, `another sandbox's pipes: ${other.stdout} ${other.stderr.slice(-300)}`);
  } finally {
    await exec(a, "for r, w in pipes: os.close(r); os.close(w)");
  }
});

test("a sandbox opening files until refused is stopped by its memory, not by the host's file table", async () => {
  // fs.file-max (2,471,052 here) is one count for the whole host, waived only for
  // CAP_SYS_ADMIN: a sandbox with 3 GB could fill it, and every other sandbox and every
  // unprivileged host process got ENFILE. hostd raises it past what the memory ceiling holds.
  const big = await createSandbox({ memory_mb: 3072 });
  const holder = [
    "import os, resource, time",
    "resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))",
    "fds, err = [], 'none'",
    "try:",
    "    while len(fds) < 19990:",
    "        fds.append(os.eventfd(0))",
    "except OSError as e:",
    "    err = e.strerror",
    "print(len(fds), err, flush=True)",
    "time.sleep(600)",
  ].join("\n");
  const held = await exec(big, `
import subprocess, sys
holders, total, last = [], 0, "none"
for _ in range(400):
    h = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(holder)}], stdout=subprocess.PIPE, text=True)
    holders.append(h)
    line = h.stdout.readline().strip()
    if not line:
        last = "killed"
        break
    n, last = line.split(" ", 1)
    total += int(n)
    if last != "none":
        break
print(total, last)
`, { timeout_ms: 240_000 });
  try {
    assert.doesNotMatch(held.stdout, /Too many open files in system/, `the sandbox filled the host's file table: ${held.stdout}`);
    assert.ok(/MemoryError: the sandbox ran out of memory/.test(held.stderr) || /(Cannot allocate memory|killed)/.test(held.stdout),
      `the sandbox was not stopped by its memory: ${held.stdout} ${held.stderr.slice(-300)}`);
    const other = await exec(b, "import os\nprint(len([os.eventfd(0) for _ in range(1000)]))");
    assert.equal(other.stdout, "1000\n", `another sandbox could not open files: ${other.stderr.slice(-300)}`);
    const nobody = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", "/proc/sys/fs/file-nr"], { encoding: "utf8" });
    assert.equal(nobody.status, 0, `an unprivileged host process could not open a file: ${nobody.stderr}`);
  } finally {
    await closeSandbox(big);
  }
});

test("the ceilings cannot be raised from inside", async () => {
  const r = await bash(a, `
before=$(cat /proc/sys/user/max_uts_namespaces)
echo 1000000 > /proc/sys/user/max_uts_namespaces 2>/dev/null && echo wrote
echo 1000000 > /proc/sys/user/max_inotify_instances 2>/dev/null && echo wrote
mount -o remount,rw /proc/sys 2>/dev/null && echo remounted
[ "$(cat /proc/sys/user/max_uts_namespaces)" = "$before" ] && echo unchanged`);
  assert.equal(r.stdout, "unchanged\n", r.stderr);
});

test("a fork family's ceilings grow with its members, and every child still makes its own namespaces", async () => {
  const parent = await pool.create();
  const ceiling = async (id: string) => Number((await bash(id, "cat /proc/sys/user/max_net_namespaces")).stdout);
  const before = await ceiling(parent);
  const res = await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 3 });
  assert.equal(res.status, 200, await res.clone().text());
  const children = ((await res.json()) as { children: string[] }).children;
  pool.track(...children);
  assert.equal(await ceiling(parent), before + 3, "the family's ceiling did not grow by the 3 children");
  for (const id of children) {
    const r = await bash(id, "unshare --net --uts true && echo made");
    assert.equal(r.stdout, "made\n", r.stderr);
  }
});
