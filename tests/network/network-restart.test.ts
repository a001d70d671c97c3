// Networking across hostd crashes and `podflare down`: links and policies of surviving
// sandboxes work after a SIGKILL and restart; what a sandbox that died meanwhile left (rules,
// address) is reconciled away; `podflare down` removes the router namespace, the uplink and
// the host's rules (and the favordynmods cgroup hierarchy).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { cgroupParentFor } from "@podflare/hostd";
import { CgroupManager, dynmodsMountPoint } from "@podflare/hostd/jail";
import { linkName, routerNames } from "@podflare/hostd/network";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { fileServer, makeOutside, probeCode, probeResult, routerOf, sh } from "./support.js";

const { stateDir, port } = ownHostd("net-restart", 40);
let hostd: TestHostd;
let www: string;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
  www = fs.mkdtempSync(path.join(os.tmpdir(), "pf-www-"));
});

after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json().catch(() => ({ sandboxes: [] }))) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes ?? []) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
  fs.rmSync(www, { recursive: true, force: true });
});

/** Mounts of this state dir's favordynmods cgroup hierarchy (jail/cgroup-dynmods.ts). */
function dynmodsMounts(): number {
  const lines = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  return lines.filter((l) => l.split(" ")[4] === dynmodsMountPoint(stateDir) && / cgroup .*favordynmods/.test(l)).length;
}

async function probe(id: string, targets: [string, number][]): Promise<string> {
  const r = await exec(id, probeCode(targets), {}, hostd.url);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
}

test("kill -9 of hostd: links and policies survive; a sandbox that died meanwhile leaves nothing; down removes it all", async () => {
  const router = routerOf(stateDir);
  const outside = makeOutside(router);
  const stops = [await fileServer(outside.netns, "198.51.100.2", 8080, www), await fileServer(outside.netns, "198.51.100.3", 8080, www)];
  try {
    const limited = await createSandbox({ network: { allow_out: ["198.51.100.2"] } }, hostd.url);
    const open = await createSandbox({}, hostd.url);
    const doomed = await createSandbox({ network: { deny_out: ["198.51.100.3"] } }, hostd.url);
    const table = () => sh(["ip", "netns", "exec", router.netns, "nft", "list", "table", "inet", "podflare"]);
    assert.ok(table().includes(`sb_${doomed}`));

    await hostd.stop("SIGKILL");
    assert.equal(dynmodsMounts(), 1, "hostd's favordynmods cgroup hierarchy is mounted while it runs");
    // The DNS forwarder goes with hostd (its IPC channel closes), before anything restarts it.
    const dnsListening = () => sh(["ip", "netns", "exec", router.netns, "ss", "-lunH"]).includes(":53");
    await eventually(() => !dnsListening(), "the DNS forwarder outlived hostd");
    // A sandbox dies while hostd is down: its link goes with its namespace, its rules stay.
    await new CgroupManager({ parent: cgroupParentFor(stateDir) }).killAll(doomed);
    hostd = await startTestHostd({ stateDir, port });
    assert.equal(dynmodsMounts(), 1, "a restart after kill -9 reuses the hierarchy the killed hostd left");

    let out = await probe(limited, [["198.51.100.2", 8080], ["198.51.100.3", 8080]]);
    assert.equal(probeResult(out, "198.51.100.2", 8080), "open", out);
    assert.equal(probeResult(out, "198.51.100.3", 8080), "closed", out);
    out = await probe(open, [["198.51.100.3", 8080]]);
    assert.equal(probeResult(out, "198.51.100.3", 8080), "open", out);
    const r = await exec(open, "import socket; print(socket.gethostbyname('pkgs.test'))", {}, hostd.url);
    assert.equal(r.stdout, "198.51.100.2\n", "DNS works again after the restart");

    assert.equal((await api("GET", `/v1/sandboxes/${doomed}`, undefined, hostd.url)).status, 404);
    assert.ok(!table().includes(`sb_${doomed}`), "the dead sandbox's rules were reconciled away");
    assert.ok(!sh(["ip", "-n", router.netns, "-o", "link", "show"]).includes(linkName(doomed)));
  } finally {
    for (const s of stops) await s();
    outside.remove();
  }
  for (const s of ((await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] }).sandboxes) {
    await closeSandbox(s.id, hostd.url);
  }
  // Killed, not stopped: `podflare down` must clean up after a hostd that could not.
  await hostd.stop("SIGKILL");
  assert.equal(dynmodsMounts(), 1);
  teardownStateDir(stateDir);
  const names = routerNames(cgroupParentFor(stateDir));
  assert.ok(!sh(["ip", "netns", "list"]).includes(names.netns), "the router namespace survived podflare down");
  assert.notEqual(spawnSync("ip", ["link", "show", names.hostUplink]).status, 0, "the uplink survived podflare down");
  assert.ok(!sh(["nft", "list", "tables"]).includes(`podflare_${names.suffix}`), "the host's rules survived podflare down");
  assert.equal(dynmodsMounts(), 0, "the favordynmods hierarchy survived podflare down");
  hostd = await startTestHostd({ stateDir, port });
});

test("a restart that moves PODFLARE_NET_CIDR while sandboxes from before run is refused (their resolv.conf names the old gateway); their DNS still answers after", async () => {
  const id = await createSandbox({}, hostd.url);
  const dns = "import socket; print(socket.gethostbyname('pkgs.test'))";
  assert.equal((await exec(id, dns, {}, hostd.url)).stdout, "198.51.100.2\n");
  const before = routerOf(stateDir);
  await hostd.stop();
  await assert.rejects(
    startTestHostd({ stateDir, port, env: { PODFLARE_NET_CIDR: "10.213.0.0/16" } }),
    /PODFLARE_NET_CIDR=10\.213\.0\.0\/16 moves the sandbox network from \S+, but 1 sandbox\(es\) from before still run/,
  );
  hostd = await startTestHostd({ stateDir, port });
  assert.deepEqual(routerOf(stateDir), before);
  assert.equal((await exec(id, dns, {}, hostd.url)).stdout, "198.51.100.2\n");
  await closeSandbox(id, hostd.url);
});
