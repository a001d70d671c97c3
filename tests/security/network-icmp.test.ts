// Forged ICMP errors (outside tester's report, item 1): a sandbox with a raw socket sends
// "port unreachable" errors whose embedded header names a flow the router tracks — another
// sandbox's DNS query, a socket of the router itself. conntrack calls such a packet `related`;
// it must still never cross from one sandbox's link to another, nor reach the router's own
// sockets. A hostd of this test's own; traffic only between its sandboxes and its router.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { api, closeSandbox, createSandbox, exec, execStarted } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { routerOf, sh, type Router } from "../network/support.js";

const { stateDir, port } = ownHostd("net-icmp", 52);
const ATTACK_S = 4;
let hostd: TestHostd;
let router: Router;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
  router = routerOf(stateDir);
});

after(async () => {
  const list = (await api("GET", "/v1/sandboxes", undefined, hostd.url).then((r) => r.json()).catch(() => ({}))) as { sandboxes?: { id: string }[] };
  for (const s of list.sandboxes ?? []) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
});

async function addressOf(id: string): Promise<string> {
  const info = (await (await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url)).json()) as { network: { address: string } };
  return info.network.address;
}

/**
 * Python for the attacker: for ATTACK_S seconds, ICMP port-unreachable errors from its own
 * address to `dst`, about a UDP packet `inner` sent earlier (so conntrack finds that flow),
 * with a message after the embedded header (a covert channel if it arrives).
 */
function forgeErrors(own: string, dst: string, inner: { src: string; sport: number; dst: string; dport: number }): string {
  return `
import socket, struct, time
def csum(b):
    if len(b) % 2: b += b"\\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def iphdr(src, dst, proto, plen):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + plen, 1, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]
msg = b"PFMSG crossed the link-to-link block"
inner = iphdr("${inner.src}", "${inner.dst}", 17, 8 + len(msg)) + struct.pack("!HHHH", ${inner.sport}, ${inner.dport}, 8 + len(msg), 0) + msg
icmp = struct.pack("!BBHI", 3, 3, 0, 0) + inner
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
sent = 0
end = time.time() + ${ATTACK_S}
while time.time() < end:
    try:
        s.sendto(iphdr("${own}", "${dst}", 1, len(icmp)) + icmp, ("${dst}", 0)); sent += 1
    except OSError:
        pass
    time.sleep(0.02)
print("sent", sent)
`;
}

/** Python for a UDP socket connected to `dst`:`dport` from `sport`, sending until refused or the deadline. */
function victim(dst: string, dport: number, sport: number, bindAddr: string, raw: boolean): string {
  return `
import json, socket, struct, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("${bindAddr}", ${sport})); u.connect(("${dst}", ${dport})); u.settimeout(0.05)
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) if ${raw ? "True" : "False"} else None
if r: r.setblocking(False)
q = struct.pack("!HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"\\x04pkgs\\x04test\\x00\\x00\\x01\\x00\\x01"
out = {"answered": 0, "refused": 0, "message": None}
print("ready", flush=True)
end = time.time() + ${ATTACK_S + 2}
while time.time() < end and not out["refused"] and not out["message"]:
    try:
        u.send(q); u.recv(512); out["answered"] += 1
    except ConnectionRefusedError:
        out["refused"] += 1
    except socket.timeout:
        pass
    try:
        while r:
            d, a = r.recvfrom(2000)
            if b"PFMSG" in d: out["message"] = a[0]
    except BlockingIOError:
        pass
print(json.dumps(out), flush=True)
`;
}

interface VictimResult {
  answered: number;
  refused: number;
  message: string | null;
}

function lastJson(text: string): VictimResult {
  return JSON.parse(text.trim().split("\n").filter((l) => l.startsWith("{")).pop() ?? "null") as VictimResult;
}

test("a forged ICMP error from one sandbox never reaches another (its DNS flow, a raw socket)", async () => {
  const a = await createSandbox({ network: { allow_out: [] } }, hostd.url);
  const b = await createSandbox({}, hostd.url);
  const [ipA, ipB] = [await addressOf(a), await addressOf(b)];
  const sport = 40404;
  const started = await execStarted(b, victim(router.gateway, 53, sport, "0.0.0.0", true), hostd.url);
  const attack = await exec(a, forgeErrors(ipA, ipB, { src: ipB, sport, dst: router.gateway, dport: 53 }), {}, hostd.url);
  assert.match(attack.stdout, /sent [1-9]/, `the attacker could not send: ${attack.stdout}${attack.stderr}`);
  const text = await started.rest;
  const stdout = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: unknown })
    .filter((e) => e.type === "stdout").map((e) => String(e.data)).join("");
  const r = lastJson(stdout);
  assert.ok(r, `no result from the victim: ${text}`);
  assert.ok(r.answered > 0, `the victim's DNS flow never worked (no conntrack entry to forge against): ${JSON.stringify(r)}`);
  assert.equal(r.message, null, `sandbox B read a message sandbox A sent: ${JSON.stringify(r)}`);
  assert.equal(r.refused, 0, `sandbox A's forged errors broke sandbox B's DNS: ${JSON.stringify(r)}`);
});

test("a forged ICMP error never reaches a socket of the router itself (the forwarder's upstream side)", async () => {
  // A socket in the router, like the DNS forwarder's upstream one: from its uplink address to
  // the host's end of the uplink, which drops it silently (so nothing real answers).
  const up = JSON.parse(sh(["ip", "-n", router.netns, "-j", "-4", "addr", "show", "dev", "uplink"])) as { addr_info: { local: string }[] }[];
  const routerUp = up[0]!.addr_info[0]!.local;
  const sport = 40405;
  const proc = spawn("ip", ["netns", "exec", router.netns, "python3", "-c", victim(router.uplinkHost, 9, sport, routerUp, false)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => (out.includes("ready") ? resolve() : proc.exitCode !== null ? reject(new Error(`router socket: ${err}`)) : undefined);
      proc.stdout.on("data", check);
      proc.on("close", check);
    });
    const a = await createSandbox({ network: { allow_out: [] } }, hostd.url);
    const attack = await exec(a, forgeErrors(await addressOf(a), routerUp, { src: routerUp, sport, dst: router.uplinkHost, dport: 9 }), {}, hostd.url);
    assert.match(attack.stdout, /sent [1-9]/, `the attacker could not send: ${attack.stdout}${attack.stderr}`);
    await exited;
    const r = lastJson(out);
    assert.equal(r.refused, 0, `a sandbox's forged error reached a socket of the router: ${out}${err}`);
  } finally {
    proc.kill();
    await exited;
  }
});
