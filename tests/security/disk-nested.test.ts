// Issue 20.2: the disk cap holds the sandbox's own subvolume; a subvolume or snapshot made
// inside it would get a qgroup of its own, with no limit. Creating one must fail (seccomp
// answers the btrfs subvolume ioctls with EPERM), so every write stays under disk_mb.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { SandboxPool, bash, exec, hostdUrl } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

const CAP_MB = 64;

// Each btrfs ioctl a process without privilege may try, with its 4096-byte argument
// (fd of the snapshot source or 0, then the name at the offset each struct puts it).
const ATTEMPTS = `
import errno, fcntl, os, struct
root = os.open('/root', os.O_RDONLY | os.O_DIRECTORY)
v1 = lambda fd, name: bytearray(struct.pack('=q4088s', fd, name))
v2 = lambda fd, name: bytearray(struct.pack('=qQQ32x4040s', fd, 0, 0, name))
attempts = [
    ('SUBVOL_CREATE', 0x5000940E, v1(0, b'sv1')),
    ('SUBVOL_CREATE_V2', 0x50009418, v2(0, b'sv2')),
    ('SNAP_CREATE', 0x50009401, v1(root, b'snap1')),
    ('SNAP_CREATE_V2', 0x50009417, v2(root, b'snap2')),
]
for name, req, args in attempts:
    try:
        fcntl.ioctl(root, req, args)
        print(name, 'ok')
    except OSError as e:
        print(name, errno.errorcode[e.errno])
`;

test("btrfs subvolume and snapshot ioctls on /root fail with EPERM", async () => {
  const id = await pool.create({ disk_mb: CAP_MB });
  const r = await exec(id, ATTEMPTS);
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, "SUBVOL_CREATE EPERM\nSUBVOL_CREATE_V2 EPERM\nSNAP_CREATE EPERM\nSNAP_CREATE_V2 EPERM\n");
  const ls = await bash(id, "ls /root");
  assert.doesNotMatch(ls.stdout, /sv1|sv2|snap1|snap2/);
});

/** Uploads a host file into the sandbox (the file API), executable. */
async function upload(id: string, hostPath: string, dest: string): Promise<void> {
  const put = await fetch(`${hostdUrl()}/v1/sandboxes/${id}/files?path=${encodeURIComponent(dest)}`, {
    method: "PUT",
    body: fs.readFileSync(hostPath),
  });
  assert.equal(put.status, 204, `upload of ${hostPath} failed: ${await put.text()}`);
}

test("`btrfs subvolume create /root/sv` fails inside a sandbox", async () => {
  // The template has no btrfs-progs: bring the host's binary and the one library the
  // template lacks (liblzo2); the template's glibc is at least as new as the host's.
  const btrfs = fs.realpathSync("/usr/bin/btrfs");
  const lzo = fs.realpathSync("/lib/x86_64-linux-gnu/liblzo2.so.2");
  const id = await pool.create({ disk_mb: CAP_MB });
  await upload(id, btrfs, "/root/.btrfs/btrfs");
  await upload(id, lzo, "/root/.btrfs/liblzo2.so.2");
  const r = await bash(id, "chmod +x /root/.btrfs/btrfs; LD_LIBRARY_PATH=/root/.btrfs /root/.btrfs/btrfs subvolume create /root/sv 2>&1; echo rc=$?");
  assert.match(r.stdout, /Operation not permitted/, r.stdout);
  assert.match(r.stdout, /rc=1\n$/);
  assert.equal((await bash(id, "test -e /root/sv && echo exists || echo absent")).stdout, "absent\n");
});

test("200 MB written under /root, into a subvolume if one can be made, stop at disk_mb", async () => {
  const id = await pool.create({ disk_mb: CAP_MB });
  const code = [
    "import fcntl, os, struct",
    "root = os.open('/root', os.O_RDONLY | os.O_DIRECTORY)",
    "try:",
    "    fcntl.ioctl(root, 0x5000940E, bytearray(struct.pack('=q4088s', 0, b'sv')))",
    "except OSError:",
    "    os.makedirs('/root/sv', exist_ok=True)",
    "written = 0",
    "chunk = b'x' * (1 << 20)",
    "try:",
    "    with open('/root/sv/fill', 'wb') as f:",
    "        for _ in range(200):",
    "            f.write(chunk)",
    "            f.flush()",
    "            os.fsync(f.fileno())",
    "            written += len(chunk)",
    "except OSError as e:",
    "    print('stopped', e.strerror)",
    "print(os.stat('/root/sv/fill').st_size)",
  ].join("\n");
  const r = await exec(id, code, { timeout_ms: 120_000 });
  assert.match(r.stdout, /stopped (Disk quota exceeded|No space left on device)/, r.stdout + r.stderr);
  const size = Number(r.stdout.trim().split("\n").pop());
  assert.ok(size <= (CAP_MB + 1) * 1024 * 1024, `wrote ${size} bytes past a ${CAP_MB} MB cap`);
});
