// A sandbox sees its own disk (issue 14): `df /` and os.statvfs('/') show its disk_mb and the
// space it has left, for fresh, pooled, fork-child and resumed sandboxes; a full disk reads as
// full; other filesystems keep their real answers; odd statfs calls get the kernel's answer.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, bash, closeSandbox, exec } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

const MB = 1024 * 1024;

interface Disk { sizeMb: number; freeMb: number; availMb: number }

/** os.statvfs of a path inside the sandbox, in MB. */
async function statvfs(id: string, path = "/"): Promise<Disk> {
  const r = await exec(id, `import os, json\ns = os.statvfs(${JSON.stringify(path)})\nprint(json.dumps([s.f_blocks * s.f_frsize, s.f_bfree * s.f_frsize, s.f_bavail * s.f_frsize]))`);
  assert.equal(r.exitCode, 0, r.stderr);
  const [size, free, avail] = JSON.parse(r.stdout) as number[];
  return { sizeMb: size! / MB, freeMb: free! / MB, availMb: avail! / MB };
}

/** `df -B1M /` inside the sandbox: [size, used, available] in MB. */
async function df(id: string): Promise<number[]> {
  const r = await bash(id, "df -B1M --output=size,used,avail / | tail -1");
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim().split(/\s+/).map((v) => Number(v.replace(/M$/, "")));
}

async function write(id: string, file: string, mb: number): Promise<void> {
  const r = await bash(id, `dd if=/dev/zero of=${file} bs=1M count=${mb} status=none && echo done`);
  assert.equal(r.stdout, "done\n", r.stderr);
}

test("a pooled sandbox's df and statvfs show the default 4096 MB disk, and free space goes down as it writes", async () => {
  const id = await pool.create();
  const [size, used, avail] = await df(id);
  assert.equal(size, 4096, "df size is the sandbox's disk_mb, not the pool's");
  assert.ok(used! < 16 && avail! > 4096 - 16, `a fresh sandbox has written next to nothing: used ${used}, avail ${avail}`);
  const before = await statvfs(id);
  assert.equal(before.sizeMb, 4096);
  await write(id, "/root/blob", 100);
  const afterWrite = await statvfs(id);
  assert.equal(afterWrite.sizeMb, 4096);
  assert.ok(before.availMb - afterWrite.availMb >= 99, `free space went down by the 100 MB written: ${before.availMb} -> ${afterWrite.availMb}`);
  await bash(id, "rm /root/blob && sync");
});

test("a sandbox created with disk_mb sees that size; a full disk reads as full and writes fail", async () => {
  const id = await pool.create({ disk_mb: 64 });
  assert.equal((await statvfs(id)).sizeMb, 64);
  const fill = await bash(id, "dd if=/dev/zero of=/root/fill bs=1M count=100 status=none; echo status $?; sync");
  assert.match(fill.stdout, /status 1/, "writing past disk_mb fails");
  assert.match(fill.stderr, /Disk quota exceeded|No space left on device/);
  const full = await statvfs(id);
  assert.ok(full.availMb < 1, `a full disk has (next to) no space available: ${full.availMb} MB`);
  const [size, used] = await df(id);
  assert.equal(size, 64);
  assert.ok(used! >= 63, `df shows the disk used: ${used} MB of 64`);
  // Freeing space shows as free space again.
  await bash(id, "rm /root/fill && sync");
  assert.ok((await statvfs(id)).availMb > 60);
});

test("a fork child sees its own disk: its own size and its own writes, not its sibling's", async () => {
  const parent = await pool.create({ disk_mb: 512 });
  await write(parent, "/root/parent-data", 50);
  const res = await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 2 });
  assert.equal(res.status, 200);
  const { children } = (await res.json()) as { children: string[] };
  try {
    const [a, b] = children as [string, string];
    assert.equal((await statvfs(a)).sizeMb, 512);
    const bBefore = await statvfs(b);
    await write(a, "/root/child-data", 100);
    const aAfter = await statvfs(a);
    assert.ok(512 - aAfter.availMb >= 100, `the child's writes count against its own disk: ${aAfter.availMb} MB left`);
    const bAfter = await statvfs(b);
    assert.ok(Math.abs(bAfter.availMb - bBefore.availMb) < 8, `a sibling's writes do not use this child's disk: ${bBefore.availMb} -> ${bAfter.availMb}`);
  } finally {
    for (const c of children) await closeSandbox(c);
  }
});

test("a sandbox resumed from a Space sees its own disk", async () => {
  const id = await pool.create({ persistent: true, disk_mb: 256 });
  await write(id, "/root/kept", 10);
  const frozen = await api("POST", `/v1/sandboxes/${id}/freeze`);
  const space = (await frozen.json()) as { space_id: string };
  assert.equal(frozen.status, 200, JSON.stringify(space));
  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`);
  const resumed = (await res.json()) as { id: string };
  assert.equal(res.status, 200, JSON.stringify(resumed));
  try {
    const disk = await statvfs(resumed.id);
    assert.equal(disk.sizeMb, 256);
    assert.ok(disk.availMb > 200 && disk.availMb <= 256, `free space of the resumed sandbox: ${disk.availMb} MB`);
  } finally {
    await closeSandbox(resumed.id);
  }
});

test("other filesystems keep their real answers; fstatvfs on a file of the root agrees with statvfs", async () => {
  const id = await pool.create({ disk_mb: 128 });
  const r = await exec(id, [
    "import os, json",
    "p, d = os.statvfs('/proc'), os.statvfs('/dev')",
    "fd = os.open('/etc/hostname', os.O_RDONLY)",
    "f = os.fstatvfs(fd)",
    "print(json.dumps([p.f_blocks, d.f_blocks * d.f_frsize, f.f_blocks * f.f_frsize]))",
  ].join("\n"));
  assert.equal(r.exitCode, 0, r.stderr);
  const [procBlocks, devBytes, fdBytes] = JSON.parse(r.stdout) as number[];
  assert.equal(procBlocks, 0, "/proc is procfs, not the sandbox's disk");
  assert.notEqual(devBytes, 128 * MB, "/dev is the jail's tmpfs, not the sandbox's disk");
  assert.equal(fdBytes, 128 * MB, "fstatvfs on a file of the root filesystem shows the sandbox's disk");
});

test("odd statfs calls get the kernel's own answers and the disk view keeps serving", async () => {
  const id = await pool.create({ disk_mb: 96 });
  const r = await exec(id, [
    "import ctypes, errno, os",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "buf = ctypes.create_string_buffer(120)",
    "def call(*args, fn='statfs'):",
    "    ret = getattr(libc, fn)(*args)",
    "    return 0 if ret == 0 else errno.errorcode[ctypes.get_errno()]",
    "os.symlink('/etc', '/root/abs-link')",
    "os.symlink('../../../../../../proc', '/root/up-link')",
    "print(call(b'/nonexistent', buf))",
    "print(call(b'/', ctypes.c_void_p(8)))",  // an unmapped buffer
    "print(call(ctypes.c_void_p(8), buf))",  // an unmapped path
    "print(call(b'', buf))",
    "print(call(12345, buf, fn='fstatfs'))",
    "print(call(b'/root/abs-link', buf), call(b'/proc/self/root', buf), call(b'/root/up-link', buf))",
    "s = os.statvfs('/root/abs-link'); print(s.f_blocks * s.f_frsize >> 20)",
    "os.chdir('/tmp'); s = os.statvfs('.'); print(s.f_blocks * s.f_frsize >> 20)",
  ].join("\n"));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ENOENT", "EFAULT", "EFAULT", "ENOENT", "EBADF", "0 0 0", "96", "96"]);
  assert.equal((await statvfs(id)).sizeMb, 96, "the supervisor still answers");
});
