// Host-wide kernel resources one sandbox could use up for everyone (outside tester, round 3,
// 2026-12-06): the AIO context count, the terminal count, and socket buffers, which cgroup v1
// left outside every memory limit. Each attack runs in a real sandbox of the shared hostd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import { SandboxPool, api, closeSandbox, createSandbox, exec } from "../support/api.js";

const pool = new SandboxPool();
let a: string;
let b: string;

before(async () => {
  [a, b] = await Promise.all([pool.create(), pool.create()]);
});
after(() => pool.closeAll());

/** Python: io_setup(n); prints "<return> <errno text>", and destroys the context it got. */
const IO_SETUP = (n: number) => `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
ctx = ctypes.c_ulong(0)
r = libc.syscall(206, ${n}, ctypes.byref(ctx))
err = os.strerror(ctypes.get_errno()) if r != 0 else "none"
if r == 0:
    libc.syscall(207, ctx)
print(r, err)
`;

test("io_setup answers ENOSYS inside: one call took the host's whole fs.aio-max-nr", async () => {
  const r = await exec(a, IO_SETUP(65536));
  assert.equal(r.stdout, "-1 Function not implemented\n", r.stderr);
  const host = spawnSync("python3", ["-c", IO_SETUP(1)], { encoding: "utf8" });
  assert.equal(host.stdout, "0 none\n", `host root could not set up AIO: ${host.stderr}`);
});

test("a sandbox opening every terminal it can gets its own share; other sandboxes and the PTY API still get theirs", async () => {
  const held = await exec(a, "import os\nptys = []\ntry:\n    while len(ptys) < 5000:\n        ptys.append(os.openpty())\nexcept OSError as e:\n    print(len(ptys), e.strerror)");
  try {
    assert.equal(held.stdout, "256 No space left on device\n", held.stderr);
    const other = await exec(b, "import os\nm, s = os.openpty()\nprint(os.ttyname(s).startswith('/dev/pts/'))");
    assert.equal(other.stdout, "True\n", other.stderr);
    const proc = await api("POST", `/v1/sandboxes/${b}/processes`, { cmd: "echo hi", pty: { rows: 24, cols: 80 } });
    assert.equal(proc.status, 200, await proc.text());
  } finally {
    await exec(a, "for m, s in ptys: os.close(m); os.close(s)");
  }
});

function udpMemBytes(): number {
  const line = fs.readFileSync("/proc/net/sockstat", "utf8").split("\n").find((l) => l.startsWith("UDP:"))!;
  return Number(line.trim().split(/\s+/).pop()) * 4096;
}

test("socket buffers a sandbox pins count against it: UDP datagrams nobody reads stop at its share", async () => {
  // On cgroup v1 these were charged to no group: a 1 GB sandbox pinned 2.5 GB of UDP buffers
  // (and a 256 MB one 3.5 GB), outside the sandboxes' memory ceiling too.
  const memoryMb = 512;
  const id = await createSandbox({ memory_mb: memoryMb });
  const before = udpMemBytes();
  try {
    const r = await exec(id, `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.setblocking(False)
receivers, data, sent = [], b"u" * 65000, 0
for _ in range(1500):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    r.bind(("127.0.0.1", 0))
    receivers.append(r)
    for _ in range(70):
        try:
            s.sendto(data, r.getsockname())
            sent += 1
        except OSError:
            pass
print(sent)
`, { timeout_ms: 120_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    const pinned = udpMemBytes() - before;
    assert.ok(pinned < (memoryMb + 64) * 1024 * 1024, `the sandbox pinned ${Math.round(pinned / 1048576)} MB of UDP buffers with memory_mb ${memoryMb}`);
  } finally {
    await closeSandbox(id);
  }
});

/** Python printing whether NET_ADMIN (bit 12) is in this process's bounding and effective sets. */
const NET_ADMIN_SETS = `
caps = dict(l.split(":\\t") for l in open("/proc/self/status").read().splitlines() if l.startswith("Cap"))
print("bounding", bool(int(caps["CapBnd"], 16) >> 12 & 1), "effective", bool(int(caps["CapEff"], 16) >> 12 & 1))
`;

test("no sandbox process holds CAP_NET_ADMIN (REPL, bash, a started process, a fork child): a qdisc on its own loopback held 800 MB charged to no one", async () => {
  // tc qdisc add dev lo root tbf … with UDP sent into it: the packets sat in the qdisc, outside
  // every memory limit, and outlived the sandbox with the namespace they kept (outside tester tp).
  const shown = "bounding False effective False\n";
  assert.equal((await exec(a, NET_ADMIN_SETS)).stdout, shown, "the REPL");
  const tc = await exec(a, "tc qdisc add dev lo root tbf rate 8bit burst 10000 limit 4000000000; echo rc=$?; ip link set lo mtu 1280; echo rc=$?", { language: "bash" });
  assert.match(tc.stdout, /^rc=[1-9]\d*\nrc=[1-9]\d*\n$/, `tc or ip changed the sandbox's links: ${tc.stdout} ${tc.stderr}`);
  assert.match(tc.stderr, /Operation not permitted/);
  const started = await exec(a, `python3 -c '${NET_ADMIN_SETS.replace(/'/g, "'\\''")}'`, { language: "bash" });
  assert.equal(started.stdout, shown, `bash: ${started.stderr}`);
  const proc = await api("POST", `/v1/sandboxes/${a}/processes`, { cmd: `python3 -c '${NET_ADMIN_SETS.replace(/'/g, "'\\''")}' > /tmp/caps.txt` });
  const started2 = (await proc.json()) as { pid: number };
  assert.equal(proc.status, 200, JSON.stringify(started2));
  await (await api("POST", `/v1/sandboxes/${a}/processes/${started2.pid}/wait`)).arrayBuffer();
  assert.equal((await exec(a, "cat /tmp/caps.txt", { language: "bash" })).stdout, shown, "a process started through the API");
  const fork = await api("POST", `/v1/sandboxes/${a}/fork`, { n: 1 });
  const forked = (await fork.json()) as { children?: string[] };
  assert.equal(fork.status, 200, JSON.stringify(forked));
  try {
    assert.equal((await exec(forked.children![0]!, NET_ADMIN_SETS)).stdout, shown, "a fork child's REPL (it joined its family's user namespace)");
  } finally {
    for (const c of forked.children ?? []) await closeSandbox(c);
  }
  // Raw IP sockets (ping, traceroute) need CAP_NET_RAW, which stays.
  assert.equal((await exec(a, "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()\nprint('raw ok')")).stdout, "raw ok\n");
});

test("packet sockets are refused (AF_PACKET, and AF_INET with SOCK_PACKET): their receive rings held 2 GB for a 256 MB sandbox, charged to no one", async () => {
  const r = await exec(a, `
import socket
for what, args in (("AF_PACKET", (17, socket.SOCK_RAW, 0x0300)), ("AF_PACKET dgram", (17, socket.SOCK_DGRAM, 0)),
                   ("AF_INET SOCK_PACKET", (socket.AF_INET, 10, 0x0300)), ("AF_INET SOCK_PACKET|CLOEXEC", (socket.AF_INET, 10 | socket.SOCK_CLOEXEC, 0x0300))):
    try:
        socket.socket(*args).close()
        print(what, "opened")
    except OSError as e:
        print(what, e.strerror)
`);
  assert.equal(r.stdout, "AF_PACKET Operation not permitted\nAF_PACKET dgram Operation not permitted\nAF_INET SOCK_PACKET Operation not permitted\nAF_INET SOCK_PACKET|CLOEXEC Operation not permitted\n", r.stderr);
});
