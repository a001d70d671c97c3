// Concurrent network changes (outside tester's report, item 2): ten parallel
// PUT /v1/sandboxes/:id/network turning egress on and off answered 500, left a route for an
// address the allocator thought free (so every later create with egress failed), and router
// state of closed sandboxes piled up. Here: the storm ends with every call answered 200 (or a
// clear 4xx), the sandbox as the API describes it, creates working; and the periodic drift
// check removes router state and addresses that belong to no sandbox.
// A hostd of this test's own (a fast drift check); traffic only to its own router.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { after, before, test } from "node:test";
import { linkName } from "@podflare/hostd/network";
import { eventually } from "../support/host.js";
import { api, bash, closeSandbox, createSandbox } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { routerOf, sh, type Router } from "../network/support.js";

const { stateDir, port } = ownHostd("net-race", 53);
let hostd: TestHostd;
let router: Router;

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_NET_RECONCILE_MS: "500" } });
  router = routerOf(stateDir);
});

after(async () => {
  const list = (await api("GET", "/v1/sandboxes", undefined, hostd.url).then((r) => r.json()).catch(() => ({}))) as { sandboxes?: { id: string }[] };
  for (const s of list.sandboxes ?? []) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
});

interface Net {
  egress: boolean;
  address: string | null;
}

async function netOf(id: string): Promise<Net> {
  const res = await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url);
  assert.equal(res.status, 200);
  return ((await res.json()) as { network: Net }).network;
}

/** The router's sandbox links, routes ("addr dev") and `bound`/`egress` elements. */
function routerState(): { links: Set<string>; routes: Set<string>; table: string } {
  const links = JSON.parse(sh(["ip", "-n", router.netns, "-j", "link", "show"])) as { ifname: string }[];
  const routes = JSON.parse(sh(["ip", "-n", router.netns, "-j", "-4", "route", "show"])) as { dst: string; dev: string }[];
  return {
    links: new Set(links.map((l) => l.ifname.replace(/@.*$/, "")).filter((n) => n.startsWith("pfs"))),
    routes: new Set(routes.filter((r) => r.dev.startsWith("pfs")).map((r) => `${r.dst} ${r.dev}`)),
    table: sh(["ip", "netns", "exec", router.netns, "nft", "list", "table", "inet", "podflare"]),
  };
}

/** What is wrong between the API's view of the sandbox, the router and the sandbox's eth0. */
async function inconsistencies(id: string): Promise<string[]> {
  const net = await netOf(id);
  const link = linkName(id);
  const { links, routes, table } = routerState();
  const inside = await bash(id, "ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}'", {}, hostd.url);
  const bad: string[] = [];
  const routesOfLink = [...routes].filter((r) => r.endsWith(` ${link}`));
  if (net.egress) {
    if (!net.address) bad.push("egress on without an address");
    if (!links.has(link)) bad.push("egress on without a link");
    if (routesOfLink.join() !== `${net.address} ${link}`) bad.push(`routes of its link: ${routesOfLink.join(", ")}`);
    if (!table.includes(`"${link}" . ${net.address}`)) bad.push("no bound element");
    if (inside.stdout.trim() !== `${net.address}/32`) bad.push(`eth0 inside: ${inside.stdout.trim() || "none"}`);
  } else {
    if (net.address !== null) bad.push(`egress off with address ${net.address}`);
    if (links.has(link) || routesOfLink.length) bad.push("egress off, but its link or route is there");
    if (inside.stdout.trim()) bad.push(`egress off, but eth0 inside has ${inside.stdout.trim()}`);
  }
  return bad;
}

async function dnsWorks(id: string): Promise<boolean> {
  const r = await bash(id, "getent hosts pkgs.test", {}, hostd.url);
  return r.exitCode === 0 && /198\.51\.100\.2/.test(r.stdout);
}

test("ten parallel PUTs turning egress on and off: all answered, the sandbox consistent, creates work", async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const id = await createSandbox({}, hostd.url);
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const res = await api("PUT", `/v1/sandboxes/${id}/network`, { egress: i % 2 === 0 }, hostd.url);
        const body = await res.text();
        if (res.status !== 200 && (res.status < 400 || res.status >= 500)) answers.push(`${res.status} ${body}`);
      }));
    }
    assert.deepEqual(answers, [], `calls failed:\n${answers.join("\n")}\n${hostd.log().slice(-2000)}`);
    assert.deepEqual(await inconsistencies(id), [], `sandbox ${id} after the storm`);
    // Whatever the last call left, the next ones work and are what they say.
    for (const egress of [true, false, true]) {
      const res = await api("PUT", `/v1/sandboxes/${id}/network`, { egress }, hostd.url);
      assert.equal(res.status, 200, await res.text());
      assert.deepEqual(await inconsistencies(id), [], `sandbox ${id} after egress ${egress}`);
    }
    assert.ok(await dnsWorks(id), "the sandbox's network works");
    await closeSandbox(id, hostd.url);
  }
  const fresh = [await createSandbox({}, hostd.url), await createSandbox({}, hostd.url)];
  const addresses = await Promise.all(fresh.map(async (id) => (await netOf(id)).address));
  assert.notEqual(addresses[0], addresses[1]);
  for (const id of fresh) assert.ok(await dnsWorks(id), `a new sandbox (${id}) has network`);
  for (const id of fresh) await closeSandbox(id, hostd.url);
});

test("the periodic drift check removes router state and addresses of no sandbox; creates work again", async () => {
  const prefix = router.gateway.replace(/\.\d+$/, ".");
  const tag = crypto.randomBytes(5).toString("hex");
  const link = `pfs${tag}`;
  const ghost = `sbx_ghost${tag}`;
  // What a half-failed change leaves: a link with routes for addresses the allocator thinks
  // free (the lowest ones, which the next creates take), their `bound` elements, a map entry,
  // a policy chain and sets; and an address held for a sandbox that does not exist.
  const stale = Array.from({ length: 8 }, (_, i) => `${prefix}${2 + i}`);
  const used = new Set(((await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { network?: Net }[] }).sandboxes.map((s) => s.network?.address));
  // Not those of a sandbox closed a moment ago either: its link and route go in the background.
  const routed = new Set([...routerState().routes].map((r) => r.split(" ")[0]));
  const free = stale.filter((a) => !used.has(a) && !routed.has(a));
  sh(["ip", "-n", router.netns, "-batch", "-"], `link add ${link} type veth peer name pft${tag}\nlink set ${link} up\nlink set pft${tag} up\n${free.map((a) => `route add ${a}/32 dev ${link}`).join("\n")}\n`);
  sh(["ip", "netns", "exec", router.netns, "nft", "-f", "-"], [
    `add chain inet podflare sb_${ghost}`,
    `add set inet podflare sa_${ghost} { type ipv4_addr; flags timeout; }`,
    `add set inet podflare sd_${ghost} { type ipv4_addr; flags timeout; }`,
    `add element inet podflare egress { "${link}" : jump sb_${ghost} }`,
    ...free.map((a) => `add element inet podflare bound { "${link}" . ${a} }`),
  ].join("\n") + "\n");
  const ghostIp = Number(`${prefix}250`.split(".").reduce((n, o) => n * 256 + Number(o), 0));
  const db = spawnSync("sqlite3", ["-cmd", ".timeout 5000", path.join(stateDir, "podflare.db"), `INSERT INTO net_addresses (key, ip) VALUES ('${ghost}', ${ghostIp})`], { encoding: "utf8" });
  assert.equal(db.status, 0, db.stderr);
  const held = () => spawnSync("sqlite3", ["-cmd", ".timeout 5000", path.join(stateDir, "podflare.db"), `SELECT count(*) FROM net_addresses WHERE key = '${ghost}'`], { encoding: "utf8" }).stdout.trim();
  assert.equal(held(), "1");
  await eventually(() => {
    const s = routerState();
    return !s.links.has(link) && ![...s.routes].some((r) => r.endsWith(` ${link}`)) && !s.table.includes(link) && !s.table.includes(ghost) && held() === "0";
  }, "the drift check left stale state behind", 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${JSON.stringify([...routerState().routes])}\n${hostd.log().slice(-1500)}`);
  });
  const ids = [await createSandbox({}, hostd.url), await createSandbox({}, hostd.url)];
  for (const id of ids) {
    assert.deepEqual(await inconsistencies(id), [], `new sandbox ${id}`);
    assert.ok(await dnsWorks(id), `new sandbox ${id} has network`);
  }
});
