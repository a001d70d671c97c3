// The router's shared parts (outside tester, round 3, 2026-12-06): the DNS forwarder, one
// process for every sandbox, and the router's conntrack table. A flood from one sandbox is
// dropped in its own link's budget, before either sees it. Traffic only between sandboxes of
// the shared hostd and its router namespace.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, exec } from "../support/api.js";

const pool = new SandboxPool();
let a: string;
let b: string;

before(async () => {
  [a, b] = await Promise.all([pool.create(), pool.create()]);
});
after(() => pool.closeAll());

/** Python: the gateway (the resolver in /etc/resolv.conf). */
const GATEWAY = "gw = [l.split()[1] for l in open('/etc/resolv.conf') if l.startswith('nameserver')][0]";

/** Lookups of `name` (a Python expression) sent one at a time from `id`, 1 s each: how many were answered, as "N\n". */
function answeredLookups(id: string, n: number, name: string): Promise<{ stdout: string; stderr: string }> {
  return exec(id, `
import socket, struct
${GATEWAY}
name = b"".join(bytes([len(p)]) + p.encode() for p in ${name}.split(".")) + b"\\x00"
ok = 0
for i in range(${n}):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.sendto(struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1), (gw, 53))
    try:
        s.recv(512)
        ok += 1
    except socket.timeout:
        pass
    s.close()
print(ok)
`, { timeout_ms: 60_000 });
}

test("three sandboxes flooding the DNS forwarder: another sandbox's lookups are all still answered", async () => {
  // The forwarder is one process for every sandbox. Three sandboxes sending as fast as they
  // could made 16 of 50 of another's lookups time out; each link's packets to it are now
  // limited in the router before the forwarder sees them.
  const flooders = await Promise.all([0, 1, 2].map(() => pool.create()));
  const FLOOD = `
import socket, struct, time
${GATEWAY}
q = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\\x07example\\x03com\\x00" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end, first = time.time() + 12, True
while time.time() < end:
    if not first:
        print("flooding", flush=True)
    first = False
    for _ in range(1000):
        try:
            s.sendto(q, (gw, 53))
        except OSError:
            pass
        try:
            s.recv(512)
        except OSError:
            pass
`;
  // Each launch returns once its flood has sent its first thousand packets.
  const started = await Promise.all(flooders.map((id) => exec(id, `import subprocess, sys\nflood = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(FLOOD)}], stdout=subprocess.PIPE, text=True)\nprint(flood.stdout.readline().strip())`)));
  for (const r of started) assert.equal(r.stdout, "flooding\n", r.stderr);
  try {
    const lookups = await answeredLookups(b, 50, "socket.gethostname()");
    assert.equal(lookups.stdout, "50\n", `another sandbox's lookups answered during the floods: ${lookups.stdout} ${lookups.stderr.slice(-300)}`);
  } finally {
    await Promise.all(flooders.map((id) => exec(id, "flood.kill(); flood.wait()")));
  }
});

test("a sandbox opening flows until refused is held at its share of the router's conntrack table; another sandbox still connects", async () => {
  // 5,000 ICMP echo requests with distinct ids to the gateway: each one a conntrack entry.
  const flows = await exec(a, `
import socket, struct, time
${GATEWAY}
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def echo(i):
    h = struct.pack("!BBHHH", 8, 0, 0, i, 1) + b"podflare"
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setblocking(False)
replies, refused, sent, end = set(), 0, 0, time.time() + 8
while time.time() < end and (sent < 5000 or time.time() < end - 6):
    if sent < 5000:
        try:
            s.sendto(echo(sent + 1), (gw, 0)); sent += 1
        except BlockingIOError:
            pass
    try:
        p = s.recv(2048)
        t, ident = p[20], struct.unpack("!H", p[24:26])[0]
        if t == 0:
            replies.add(ident)
        elif t == 3:
            refused += 1
    except BlockingIOError:
        if sent >= 5000:
            time.sleep(0.01)
print(len(replies), refused)
`, { timeout_ms: 30_000 });
  assert.equal(flows.exitCode, 0, flows.stderr);
  const [replies] = flows.stdout.trim().split(" ").map(Number);
  assert.ok(replies! > 100 && replies! <= 4096, `${replies} of 5000 new flows were let through`);
  console.log(`flows: ${flows.stdout.trim()} (echo replies, refusals)`);
  const other = await exec(b, `
import socket, struct, time
${GATEWAY}
h = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"podflare"
c = sum(struct.unpack("!8H", h)); c = (c >> 16) + (c & 0xffff); c += c >> 16
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(h[:2] + struct.pack("!H", (~c) & 0xffff) + h[4:], (gw, 0))
print(s.recv(2048)[20])
`);
  assert.equal(other.stdout, "0\n", `no echo reply for another sandbox: ${other.stdout} ${other.stderr}`);
});

test("a DNS query sent from source port 0 (a raw socket) does not end the forwarder every sandbox shares", async () => {
  // One such packet made the forwarder throw (ERR_SOCKET_BAD_PORT) and exit; sent every 50 ms,
  // 16 of 40 lookups of another tenant's sandbox went unanswered (outside tester, 2026-12-07).
  const pidFile = `${process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-test"}/dns-forwarder.pid`;
  const { readFileSync } = await import("node:fs");
  const pidBefore = readFileSync(pidFile, "utf8").split(" ")[0];
  // A sandbox of its own: a's conntrack share may still be full from the test above.
  const sender = await pool.create();
  const sent = await exec(sender, `
import socket, struct
${GATEWAY}
q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\\x07example\\x03com\\x00" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
n = 0
for _ in range(20):
    n += s.sendto(struct.pack("!HHHH", 0, 53, 8 + len(q), 0) + q, (gw, 0))
print(n > 0)
`);
  assert.equal(sent.stdout, "True\n", `the raw socket could not send: ${sent.stderr.slice(-300)}`);
  const lookups = await answeredLookups(b, 10, "'example.com'");
  assert.equal(lookups.stdout, "10\n", "another sandbox's lookups were not all answered");
  assert.equal(readFileSync(pidFile, "utf8").split(" ")[0], pidBefore, "the DNS forwarder was restarted: the port-0 query ended it");
});
