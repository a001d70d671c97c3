// What the dashboard adds for admins and over time, against a hostd of this file's own that takes
// a usage snapshot every 300 ms, with an admin key and a stored tenant key: usage per key over
// time (GET /v1/usage/history, the usage page's charts) and every key's sandboxes with their
// owner (GET /v1/sandboxes?all=true, the sandboxes page).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser } from "puppeteer-core";
import { until } from "../support/host.js";
import { launchBrowser, newPage, screenshot, signIn } from "../support/browser.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("admin-views", 57);
const ADMIN = "pf_test_admin_views_admin_key_0123456789";
let hostd: TestHostd;
let browser: Browser;
let tenant: { key: string; id: string };

type History = { interval_s: number; since: string; points: { owner: string; at: string; execs: number; sandbox_seconds: number }[]; current: { owner: string; execs: number }[] };

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_ADMIN_KEY: ADMIN, PODFLARE_USAGE_SNAPSHOT_MS: "300" } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (hostd) {
    for (const key of [ADMIN, tenant?.key].filter(Boolean) as string[]) {
      const list = (await (await api("GET", "/v1/sandboxes", undefined, key)).json()) as { sandboxes?: { id: string }[] };
      for (const s of list.sandboxes ?? []) await (await api("DELETE", `/v1/sandboxes/${s.id}`, undefined, key)).arrayBuffer();
    }
    await hostd.stop();
  }
  teardownStateDir(stateDir);
});

function api(method: string, p: string, body?: unknown, key = ADMIN): Promise<Response> {
  return fetch(hostd.url + p, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function history(query: string, key = ADMIN): Promise<History> {
  const res = await api("GET", `/v1/usage/history${query}`, undefined, key);
  assert.equal(res.status, 200);
  return (await res.json()) as History;
}

test("GET /v1/usage/history: a running sandbox's key gets a point per snapshot, oldest first; a tenant sees its own, an admin every key", async () => {
  tenant = (await (await api("POST", "/v1/keys", { name: "usage-tenant", tier: "pro" })).json()) as { key: string; id: string };
  const sb = ((await (await api("POST", "/v1/sandboxes", {}, tenant.key)).json()) as { id: string }).id;
  await (await api("POST", `/v1/sandboxes/${sb}/exec`, { code: "print(1)" }, tenant.key)).text();
  const adminSb = ((await (await api("POST", "/v1/sandboxes", {})).json()) as { id: string }).id;
  await (await api("POST", `/v1/sandboxes/${adminSb}/exec`, { code: "print(2)" })).text();

  const mine = await until(async () => {
    const h = await history("?since=0", tenant.key);
    return h.points.filter((p) => p.owner === tenant.id && p.execs === 1).length >= 2 ? h : undefined;
  }, "snapshots of the tenant's running sandbox, its seconds growing");
  assert.equal(mine.interval_s, 0.3);
  assert.ok(mine.points.every((p) => p.owner === tenant.id), "a tenant sees only its own points");
  assert.deepEqual(mine.current.map((c) => c.owner), [tenant.id]);
  const seconds = mine.points.map((p) => p.sandbox_seconds);
  assert.ok(seconds.every((s, i) => i === 0 || s > seconds[i - 1]!), `a running sandbox's seconds grow point to point: ${seconds}`);
  assert.ok(mine.points.every((p, i) => i === 0 || p.at > mine.points[i - 1]!.at), "oldest first");

  const all = await until(async () => {
    const h = await history("?since=0");
    return h.points.some((p) => p.owner === "admin") ? h : undefined;
  }, "the admin's own points");
  assert.ok(all.points.some((p) => p.owner === tenant.id), "an admin sees every key");
  // The state dir outlives a run: keys of earlier runs may be there too.
  assert.ok(["admin", tenant.id].every((o) => all.current.some((c) => c.owner === o)), "an admin gets every key's totals now");
});

test("GET /v1/usage/history: since bounds the points (ISO or epoch ms, default 24 h); a bad since is 400 naming the forms", async () => {
  const future = new Date(Date.now() + 60_000).toISOString();
  const later = await history(`?since=${encodeURIComponent(future)}`);
  assert.deepEqual(later.points, []);
  assert.equal(later.since, future);
  const recent = await history("");
  assert.ok(Date.parse(recent.since) > Date.now() - 86_400_000 - 60_000 && Date.parse(recent.since) < Date.now() - 86_400_000 + 60_000);
  assert.ok(recent.points.length > 0);
  for (const bad of ["yesterday", "12abc"]) {
    const res = await api("GET", `/v1/usage/history?since=${bad}`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, "bad_request");
    assert.match(body.error, /ISO time .* or epoch milliseconds/);
  }
  assert.equal((await fetch(`${hostd.url}/v1/usage/history`)).status, 401, "no key, no history");
});

test("the usage page charts each key over time (admin: every key, named); a tenant's page shows its own line only", async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, hostd.url, ADMIN);
  await page.click("#nav-usage");
  await page.waitForSelector(`#usage-history svg.chart path[data-series='${tenant.id}']`, { timeout: 20_000 });
  await page.waitForSelector("#usage-history svg.chart path[data-series='admin']");
  assert.equal(await page.$$eval("#usage-history svg.chart", (s) => s.length), 4);
  const legend = await page.$eval(`#usage-history .legend [data-owner='${tenant.id}']`, (e) => e.textContent ?? "");
  assert.match(legend, /usage-tenant/, "an admin sees keys by name");
  const points = await page.$$eval(`#usage-history svg.chart path[data-series='${tenant.id}']`, (ps) => ps.map((p) => (p.getAttribute("d") ?? "").split(/[ML]/).filter(Boolean).length));
  assert.ok(points.every((n) => n >= 3), `the tenant's lines have its snapshots and its point now: ${points}`);
  await screenshot(page, "usage-over-time-admin");
  await page.select("#usage-range", "3600000");
  await page.waitForSelector(`#usage-history svg.chart path[data-series='${tenant.id}']`);

  const t = await newPage(browser);
  await signIn(t.page, hostd.url, tenant.key);
  await t.page.click("#nav-usage");
  await t.page.waitForSelector(`#usage-history svg.chart path[data-series='${tenant.id}']`, { timeout: 20_000 });
  assert.deepEqual(await t.page.$$eval("#usage-history .legend [data-owner]", (es) => es.map((e) => e.getAttribute("data-owner"))), [tenant.id]);
  await screenshot(t.page, "usage-over-time-tenant");
  assert.deepEqual(errors, []);
  assert.deepEqual(t.errors, []);
  await t.page.browserContext().close();
  await page.browserContext().close();
});

test("GET /v1/sandboxes?all=true: an admin gets every key's sandboxes with their owner; a tenant is refused; a bad value is 400", async () => {
  const theirs = ((await (await api("POST", "/v1/sandboxes", {}, tenant.key)).json()) as { id: string }).id;
  const all = (await (await api("GET", "/v1/sandboxes?all=true")).json()) as { sandboxes: { id: string; owner?: string }[] };
  assert.equal(all.sandboxes.find((s) => s.id === theirs)?.owner, tenant.id);
  assert.ok(all.sandboxes.some((s) => s.owner === "admin"));
  const own = (await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string; owner?: string }[] };
  assert.ok(own.sandboxes.every((s) => s.owner === undefined && s.id !== theirs), "without all: the caller's own, no owner field");
  const refused = await api("GET", "/v1/sandboxes?all=true", undefined, tenant.key);
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { error: string }).error, /needs an admin key; leave all out/);
  const bad = await api("GET", "/v1/sandboxes?all=yes");
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, "bad_request");
});

test("the sandboxes page: an admin sees every key's sandboxes with the owner, CPU and memory of its own, and actions on its own only", async () => {
  const list = (await (await api("GET", "/v1/sandboxes?all=true")).json()) as { sandboxes: { id: string; owner: string }[] };
  const mine = list.sandboxes.find((s) => s.owner === "admin")!.id;
  const theirs = list.sandboxes.find((s) => s.owner === tenant.id)!.id;
  const { page, errors } = await newPage(browser);
  await signIn(page, hostd.url, ADMIN);
  await page.waitForSelector(`#sandbox-rows tr[data-id='${theirs}'] td.owner`);
  assert.equal(await page.$eval(`#sandbox-rows tr[data-id='${theirs}'] td.owner`, (e) => e.textContent), tenant.id);
  assert.equal(await page.$eval(`#sandbox-rows tr[data-id='${mine}'] td.owner`, (e) => e.textContent), "admin (you)");
  assert.equal(await page.$(`#sandbox-rows tr[data-id='${theirs}'] button`), null, "no actions on another key's sandbox");
  assert.match(await page.$eval(`#sandbox-rows tr[data-id='${mine}'] td.memory`, (e) => e.textContent ?? ""), /MiB$/);
  assert.equal(await page.$eval(`#sandbox-rows tr[data-id='${theirs}'] td.memory`, (e) => e.textContent), "—");
  // CPU now: a percentage from the second reading on (the page reads every 5 s).
  await page.waitForFunction((id) => /%$/.test(document.querySelector(`#sandbox-rows tr[data-id='${id}'] td.cpu`)?.textContent ?? ""), { timeout: 20_000 }, mine);
  // Fork from the list: one more sandbox of the admin's.
  await page.click(`#sandbox-rows tr[data-id='${mine}'] button.fork`);
  await page.waitForFunction((n) => document.querySelectorAll("#sandbox-rows td.owner").length === n + 1, { timeout: 30_000 }, list.sandboxes.length);
  await screenshot(page, "sandboxes-admin-every-key");

  const t = await newPage(browser);
  await signIn(t.page, hostd.url, tenant.key);
  await t.page.waitForSelector(`#sandbox-rows tr[data-id='${theirs}'] button.pause`);
  assert.equal(await t.page.$("#sandbox-rows td.owner"), null, "a tenant's list has no owner column");
  assert.equal(await t.page.$(`#sandbox-rows tr[data-id='${mine}']`), null, "nor the admin's sandboxes");
  assert.deepEqual(errors, []);
  assert.deepEqual(t.errors, []);
  await t.page.browserContext().close();
  await page.browserContext().close();
});
