// Sandbox networking against the shared test hostd: egress through the router namespace,
// egress off, isolation between sandboxes and from the host, egress policy (CIDRs and names,
// changed at runtime), fork children's own addresses, and cleanup on close.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { api, bash, closeSandbox, createSandbox, exec, hostdUrl } from "../support/api.js";
import { linkName } from "@podflare/hostd/network";
import { eventually } from "../support/host.js";
import { fileServer, makeOutside, probeCode, probeResult, routerOf, sh, type Router } from "./support.js";

const GATEWAY_PORT = 18080; // allowed by the test hostd's PODFLARE_NET_GATEWAY_PORTS
const OTHER_GATEWAY_PORT = 18081; // not allowed
const OUTSIDE_PORT = 8080;

interface Info {
  network: { egress: boolean; address: string | null; allow_out: string[] | null; deny_out: string[] };
}

async function info(id: string): Promise<Info> {
  const res = await api("GET", `/v1/sandboxes/${id}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Info;
}

async function probe(id: string, targets: [string, number][]): Promise<string> {
  const r = await exec(id, probeCode(targets));
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
}

describe("network", () => {
  let router: Router;
  let www: string;
  const stops: (() => Promise<void>)[] = [];
  let outside: { netns: string; remove(): void };
  const made: string[] = [];

  before(async () => {
    router = routerOf();
    www = fs.mkdtempSync(path.join(os.tmpdir(), "pf-www-"));
    fs.writeFileSync(path.join(www, "hello.txt"), "hello from the gateway\n");
    stops.push(await fileServer(router.netns, router.gateway, GATEWAY_PORT, www));
    stops.push(await fileServer(router.netns, router.gateway, OTHER_GATEWAY_PORT, www));
    outside = makeOutside(router);
    stops.push(await fileServer(outside.netns, "198.51.100.2", OUTSIDE_PORT, www));
    stops.push(await fileServer(outside.netns, "198.51.100.3", OUTSIDE_PORT, www));
  });

  after(async () => {
    for (const id of made) await closeSandbox(id);
    for (const s of stops) await s();
    outside?.remove();
    fs.rmSync(www, { recursive: true, force: true });
  });

  async function sandbox(body: Record<string, unknown> = {}): Promise<string> {
    const id = await createSandbox(body);
    made.push(id);
    return id;
  }

  test("egress on: an address, a default route, DNS, the gateway's allowed port and the outside", async () => {
    const id = await sandbox();
    const { network } = await info(id);
    assert.equal(network.egress, true);
    assert.match(network.address ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    const r = await bash(id, "cat /sys/class/net/eth0/operstate; cat /etc/resolv.conf; getent hosts pkgs.test; " +
      `python3 -c "import urllib.request as u; print(u.urlopen('http://${router.gateway}:${GATEWAY_PORT}/hello.txt', timeout=5).read().decode())"`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^up$/m);
    assert.match(r.stdout, new RegExp(`nameserver ${router.gateway.replace(/\./g, "\\.")}`));
    assert.match(r.stdout, /198\.51\.100\.2\s+pkgs\.test/);
    assert.match(r.stdout, /hello from the gateway/);
    const out = await probe(id, [["198.51.100.2", OUTSIDE_PORT], ["pkgs.test", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
    assert.equal(probeResult(out, "pkgs.test", OUTSIDE_PORT), "open", out);
  });

  test("pip install of a wheel served from the gateway works inside", async () => {
    const wheelDir = fs.mkdtempSync(path.join(www, "wheels-"));
    sh(["python3", "-c", `
import zipfile, hashlib, base64, sys
name = "podflare_probe-1.0-py3-none-any.whl"
files = {
  "podflare_probe/__init__.py": "ANSWER = 42\\n",
  "podflare_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: podflare-probe\\nVersion: 1.0\\n",
  "podflare_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(sys.argv[1] + "/" + name, "w") as z:
    for p, text in files.items():
        data = text.encode(); z.writestr(p, data)
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{p},sha256={h},{len(data)}")
    record.append("podflare_probe-1.0.dist-info/RECORD,,")
    z.writestr("podflare_probe-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
`, wheelDir]);
    const id = await sandbox();
    const url = `http://${router.gateway}:${GATEWAY_PORT}/${path.basename(wheelDir)}/`;
    const r = await bash(id, `pip install --quiet --no-index --break-system-packages --trusted-host ${router.gateway} --find-links ${url} podflare-probe && python3 -c "import podflare_probe; print('answer', podflare_probe.ANSWER)"`, { timeout_ms: 120_000 });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /answer 42/);
  });

  test("egress off: loopback only, nothing outside reachable", async () => {
    const id = await sandbox({ egress: false });
    const { network } = await info(id);
    assert.deepEqual([network.egress, network.address], [false, null]);
    const r = await bash(id, "ls /sys/class/net");
    assert.equal(r.stdout.trim(), "lo");
    const out = await probe(id, [[router.gateway, GATEWAY_PORT], ["198.51.100.2", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, router.gateway, GATEWAY_PORT), "closed", out);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "closed", out);
  });

  test("isolation: no sandbox reaches another, the host, hostd or a gateway port not allowed", async () => {
    const a = await sandbox();
    const b = await sandbox();
    const bAddr = (await info(b)).network.address!;
    const started = await bash(b, "nohup python3 -m http.server 9000 --bind 0.0.0.0 >/dev/null 2>&1 &\nfor i in $(seq 50); do python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 9000), 1)' 2>/dev/null && break; sleep 0.1; done; echo started");
    assert.match(started.stdout, /started/);
    // A listener of the test's own on the host side of the uplink (a host service).
    const hostWww = await fileServer(null, router.uplinkHost, 18090, www);
    try {
      const hostdPort = Number(new URL(hostdUrl()).port);
      const out = await probe(a, [[bAddr, 9000], [router.uplinkHost, 18090], [router.uplinkHost, hostdPort], [router.gateway, hostdPort], [router.gateway, OTHER_GATEWAY_PORT]]);
      for (const [h, p] of [[bAddr, 9000], [router.uplinkHost, 18090], [router.uplinkHost, hostdPort], [router.gateway, hostdPort], [router.gateway, OTHER_GATEWAY_PORT]] as const) {
        assert.equal(probeResult(out, h, p), "closed", `${h}:${p} must be unreachable:\n${out}`);
      }
      // Nor can it set a route of its own to try another way (no CAP_NET_ADMIN: docs/security.md).
      const routed = await bash(a, `ip route replace ${bAddr}/32 via ${router.gateway} dev eth0`);
      assert.notEqual(routed.exitCode, 0, "root inside changed its routes");
      assert.match(routed.stderr, /Operation not permitted/);
    } finally {
      await hostWww();
    }
  });

  test("spoofing another address gets nothing through", async () => {
    const a = await sandbox();
    const b = await sandbox();
    const bAddr = (await info(b)).network.address!;
    // Root inside cannot give its link another address (no CAP_NET_ADMIN: docs/security.md),
    // but a socket may still send from one (IP_FREEBIND): the router only accepts the address
    // it gave this link.
    const add = await bash(a, `ip addr add ${bAddr}/32 dev eth0`);
    assert.notEqual(add.exitCode, 0, "root inside changed its link's addresses");
    assert.match(add.stderr, /Operation not permitted/);
    const r = await bash(a, `python3 - <<'EOF'
import socket
s = socket.socket(); s.settimeout(2); s.setsockopt(socket.SOL_IP, 15, 1); s.bind(("${bAddr}", 0))  # 15: IP_FREEBIND
try:
    s.connect(("198.51.100.2", ${OUTSIDE_PORT})); print("open")
except OSError as e:
    print("closed", e)
EOF`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^closed/);
    // Its own address still works.
    const out = await probe(a, [["198.51.100.2", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
  });

  test("link-local and cloud metadata ranges are refused (read from the rule set)", () => {
    const fwd = sh(["ip", "netns", "exec", router.netns, "nft", "list", "chain", "inet", "podflare", "forward"]);
    assert.match(fwd, /169\.254\.0\.0\/16/);
    assert.match(fwd, /ip daddr \{[^}]*169\.254\.0\.0\/16[^}]*\} reject/);
    const host = sh(["nft", "list", "table", "inet", `podflare_${router.hostUplink.slice(3)}`]);
    assert.match(host, new RegExp(`iifname "${router.hostUplink}" drop`));
  });

  test("allow_out admits what it names and refuses the rest; a runtime change applies to the next connection", async () => {
    const id = await sandbox({ network: { allow_out: ["198.51.100.2"] } });
    let out = await probe(id, [["198.51.100.2", OUTSIDE_PORT], ["198.51.100.3", OUTSIDE_PORT], [router.gateway, GATEWAY_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
    assert.equal(probeResult(out, "198.51.100.3", OUTSIDE_PORT), "closed", out);
    assert.equal(probeResult(out, router.gateway, GATEWAY_PORT), "closed", out);

    const res = await api("PUT", `/v1/sandboxes/${id}/network`, { allow_out: ["198.51.100.3"] });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as Info).network.allow_out, ["198.51.100.3/32"]);
    out = await probe(id, [["198.51.100.2", OUTSIDE_PORT], ["198.51.100.3", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "closed", out);
    assert.equal(probeResult(out, "198.51.100.3", OUTSIDE_PORT), "open", out);

    // deny_out wins over an open policy.
    await (await api("PUT", `/v1/sandboxes/${id}/network`, { allow_out: null, deny_out: ["198.51.100.3"] })).arrayBuffer();
    out = await probe(id, [["198.51.100.2", OUTSIDE_PORT], ["198.51.100.3", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
    assert.equal(probeResult(out, "198.51.100.3", OUTSIDE_PORT), "closed", out);
  });

  test("allow_out by domain name: addresses learned from the sandbox's own lookups", async () => {
    const id = await sandbox({ network: { allow_out: ["pkgs.test"] } });
    // Before a lookup nothing is allowed; after it, pkgs.test's address is, other.test's is not.
    let out = await probe(id, [["198.51.100.2", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "closed", out);
    out = await probe(id, [["pkgs.test", OUTSIDE_PORT], ["other.test", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "pkgs.test", OUTSIDE_PORT), "open", out);
    assert.equal(probeResult(out, "other.test", OUTSIDE_PORT), "closed", out);
  });

  test("bad policies and bad network calls get clear errors", async () => {
    const cases: [unknown, RegExp][] = [
      [{ network: { allow_out: ["::1"] } }, /IPv4 only/],
      [{ network: { allow_out: "x" } }, /must be a list/],
      [{ network: { allow_out: ["198.51.100.2"] }, egress: false }, /egress: false/],
    ];
    for (const [body, re] of cases) {
      const res = await api("POST", "/v1/sandboxes", body);
      const j = (await res.json()) as { code: string; error: string };
      assert.equal(res.status, 400, JSON.stringify(j));
      assert.equal(j.code, "bad_request");
      assert.match(j.error, re);
    }
    const missing = await api("PUT", "/v1/sandboxes/sbx_00000000000000000000000000000000/network", { allow_out: [] });
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const id = await sandbox();
    for (const [body, re] of [[{ egress: "yes" }, /egress must be true or false/], [{ deny_out: ["::1"] }, /IPv4 only/]] as const) {
      const bad = await api("PUT", `/v1/sandboxes/${id}/network`, body);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, re);
    }
  });

  test("egress can be turned off and on at runtime", async () => {
    const id = await sandbox();
    let res = await api("PUT", `/v1/sandboxes/${id}/network`, { egress: false });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as Info).network.address, null);
    assert.equal((await bash(id, "ls /sys/class/net")).stdout.trim(), "lo");
    res = await api("PUT", `/v1/sandboxes/${id}/network`, { egress: true });
    const addr = ((await res.json()) as Info).network.address;
    assert.ok(addr);
    const out = await probe(id, [["198.51.100.2", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
  });

  test("fork children get their own address and the parent's policy", async () => {
    const parent = await sandbox({ network: { allow_out: ["198.51.100.2"] } });
    const res = await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 2 });
    const { children } = (await res.json()) as { children: string[] };
    made.push(...children);
    const addrs = await Promise.all([parent, ...children].map(async (id) => (await info(id)).network.address));
    assert.equal(new Set(addrs).size, 3, `addresses must differ: ${addrs.join(", ")}`);
    for (const c of children) {
      assert.deepEqual((await info(c)).network.allow_out, ["198.51.100.2/32"]);
      const out = await probe(c, [["198.51.100.2", OUTSIDE_PORT], ["198.51.100.3", OUTSIDE_PORT]]);
      assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
      assert.equal(probeResult(out, "198.51.100.3", OUTSIDE_PORT), "closed", out);
    }
  });

  test("a frozen sandbox's policy comes back with its Space", async () => {
    const id = await createSandbox({ persistent: true, network: { allow_out: ["198.51.100.2"] } });
    const frozen = await api("POST", `/v1/sandboxes/${id}/freeze`);
    const { space_id } = (await frozen.json()) as { space_id: string };
    const res = await api("POST", `/v1/spaces/${space_id}/resume`);
    const back = (await res.json()) as { id: string };
    assert.equal(res.status, 200, JSON.stringify(back));
    made.push(back.id);
    assert.deepEqual((await info(back.id)).network.allow_out, ["198.51.100.2/32"]);
    const out = await probe(back.id, [["198.51.100.2", OUTSIDE_PORT], ["198.51.100.3", OUTSIDE_PORT]]);
    assert.equal(probeResult(out, "198.51.100.2", OUTSIDE_PORT), "open", out);
    assert.equal(probeResult(out, "198.51.100.3", OUTSIDE_PORT), "closed", out);
  });

  test("close removes the link, the rules and the address", async () => {
    const id = await createSandbox({ network: { allow_out: ["pkgs.test"] } });
    const addr = (await info(id)).network.address!;
    const table = () => sh(["ip", "netns", "exec", router.netns, "nft", "list", "table", "inet", "podflare"]);
    assert.ok(table().includes(`sb_${id}`));
    const links = () => sh(["ip", "-n", router.netns, "-o", "link", "show"]);
    assert.ok(links().includes(linkName(id)));
    assert.match(sh(["ip", "-n", router.netns, "-o", "route", "show", "dev", linkName(id)]), new RegExp(`^${addr.replace(/\./g, "\\.")} `));
    await closeSandbox(id);
    await eventually(() => !links().includes(linkName(id)), "the link outlived the sandbox");
    // Rules of closed sandboxes are removed in a batch a moment later (see network-service.ts).
    await eventually(() => !table().includes(`sb_${id}`), "the policy chain outlived the sandbox", 4000);
  });
});
