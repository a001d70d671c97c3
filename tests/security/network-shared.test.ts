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

test("a sandbox flooding the DNS forwarder gets at most its own packet budget answered; another sandbox still resolves", async () => {
  // 5,000 queries in one burst from one socket: the forwarder used to answer each (REFUSED past
  // 50/s), and three such sandboxes made others' lookups time out.
  const flood = await exec(a, `
import socket, struct, time
${GATEWAY}
q = lambda i: struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + b"\\x07example\\x03com\\x00" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
for i in range(5000):
    try:
        s.sendto(q(i), (gw, 53))
    except BlockingIOError:
        pass
answers, end = 0, time.time() + 2
while time.time() < end:
    try:
        s.recv(512)
        answers += 1
    except BlockingIOError:
        time.sleep(0.01)
print(answers)
`, { timeout_ms: 30_000 });
  assert.equal(flood.exitCode, 0, flood.stderr);
  const answered = Number(flood.stdout);
  assert.ok(answered > 0 && answered <= 1000, `${answered} of 5000 flooded queries were answered`);
  console.log(`dns flood: ${answered} of 5000 answered`);
  const other = await exec(b, "import socket\nprint(all(socket.gethostbyname(socket.gethostname()) for _ in range(20)))");
  assert.equal(other.stdout, "True\n", other.stderr);
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
