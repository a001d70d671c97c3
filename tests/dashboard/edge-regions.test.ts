// The dashboard through an edge (issue 19) in a real browser: two real hostd origins (regions
// us-west and eu) and an edge in front, ports and state dirs at ownHostd offsets 80-82. Signs in
// at the edge, sees both regions' sandboxes with their region, creates in a chosen region, runs
// code in a sandbox of the other region, shows per-region usage and capacity, then kills one
// origin: its region shows down and the other region's sandboxes stay usable.
// Screenshots go to PODFLARE_SCREENSHOT_DIR (default /tmp/podflare-dashboard-screenshots), edge-*.png.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import type { RunningEdge } from "@podflare/edge";
import { regionTagFor } from "@podflare/protocol";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd } from "../support/hostd-process.js";
import { launchBrowser, newPage, screenshot, signIn } from "../support/browser.js";
import { call, createVia, key, originEnv, startTestEdge, stopOrigins, type Origin } from "../edge/support.js";

const origins: Origin[] = [];
let edge: RunningEdge;
const edgeLog: string[] = [];
let browser: Browser;
let page: Page;
let errors: string[] = [];
const ids: Record<string, string> = {};

const regionOf = (id: string) => ["us-west", "eu"].find((n) => regionTagFor(n) === id.slice(4, 8));

before(async () => {
  for (const [i, name] of ["us-west", "eu"].entries()) {
    const { stateDir, port } = ownHostd(`dash-edge-${name}`, 80 + i);
    origins.push({ name, stateDir, port, hostd: await startTestHostd({ stateDir, port, env: originEnv(name) }) });
  }
  edge = await startTestEdge(origins, 82, 200, edgeLog);
  browser = await launchBrowser();
  ({ page, errors } = await newPage(browser));
});

after(async () => {
  await browser?.close();
  await edge?.close();
  // The killed origin is started again so its sandboxes are closed through its API, not left running.
  for (const o of origins) {
    if (o.hostd.proc.exitCode !== null || o.hostd.proc.signalCode !== null) o.hostd = await startTestHostd({ stateDir: o.stateDir, port: o.port, env: originEnv(o.name) });
  }
  await stopOrigins(origins);
});

const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? "");
const waitText = (selector: string, pattern: RegExp, timeout = 30_000) =>
  page.waitForFunction((sel, src) => new RegExp(src).test(document.querySelector(sel)?.textContent ?? ""), { timeout }, selector, pattern.source);
/** Region cells of the sandboxes table, by id. */
const regionCells = () =>
  page.$$eval("#sandbox-rows tr[data-id]", (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute("data-id"), r.querySelector("td.region")?.textContent ?? ""])));
/**
 * Errors the page logged, but the browser's own lines for answers the pages expect: a down
 * region's 503, and the 403 of Keys for a key that is not an admin's.
 */
const unexpected = () => errors.filter((e) => !/status of (503|403) /.test(e));

async function runInConsole(id: string, code: string): Promise<string> {
  await page.goto(`${edge.url}/dashboard/#/sandboxes/${id}`);
  // Only a hash change when already on the dashboard: wait for this sandbox's console, not the last one's.
  await waitText("h1", new RegExp(`Sandbox ${id}`));
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", code);
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  return text("#output");
}

test("the dashboard's files come through the edge with hostd's CSP", async () => {
  const res = await fetch(`${edge.url}/dashboard/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-security-policy")!, /default-src 'none'; script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.match(await res.text(), /<script type="module" src="main.js">/);
  const health = await fetch(`${edge.url}/v1/healthz`);
  assert.equal(health.headers.get("x-podflare-edge"), "1", "how the page knows it is behind an edge");
  await health.arrayBuffer();
});

test("signed in at the edge: both regions' sandboxes, each with its region; create in a chosen region; run code in the other", async () => {
  ids["us-west"] = await createVia(edge.url, { region: "us-west" });
  ids["eu"] = await createVia(edge.url, { region: "eu" });
  await signIn(page, edge.url, key);
  await page.waitForFunction((a, b) => !!document.querySelector(`tr[data-id="${a}"]`) && !!document.querySelector(`tr[data-id="${b}"]`), { timeout: 30_000 }, ids["us-west"], ids["eu"]);
  const cells = await regionCells();
  assert.equal(cells[ids["us-west"]!], "us-west");
  assert.equal(cells[ids["eu"]!], "eu");
  assert.ok((await page.$$eval("thead th", (ths) => ths.map((t) => t.textContent))).includes("Region"));
  assert.equal(await text("#regions-down"), "", "no region is down");
  await screenshot(page, "edge-1-sandboxes-both-regions");

  // New sandbox in eu (named, not the nearest).
  await page.select("#new-region", "eu");
  await page.click("#new-sandbox");
  await page.waitForFunction(() => /^#\/sandboxes\/sbx_[0-9a-f]{32}$/.test(location.hash), { timeout: 60_000 });
  const made = (await page.evaluate(() => location.hash)).slice("#/sandboxes/".length);
  assert.equal(regionOf(made), "eu", "made in the region picked");
  assert.equal((await call(origins[1]!.hostd.url, "GET", `/v1/sandboxes/${made}`)).status, 200, "it lives at eu's hostd");
  ids["eu-made"] = made;

  // The console of a sandbox in the other region (us-west), through the same edge.
  assert.match(await runInConsole(ids["us-west"]!, "import os; print('hello from', 6 * 7)"), /hello from 42/);
  assert.equal(await text("#sandbox-region"), "in us-west");
  await screenshot(page, "edge-2-console-other-region");
  assert.deepEqual(unexpected(), []);
});

test("Spaces across regions; Usage and Keys per region with a picker; capacity per region", async () => {
  const frozen = await call(edge.url, "POST", `/v1/sandboxes/${ids["eu-made"]}/freeze`);
  const space = ((await frozen.json()) as { space_id: string }).space_id;
  assert.equal(frozen.status, 200);
  await page.goto(`${edge.url}/dashboard/#/spaces`);
  await page.waitForSelector(`#space-rows tr[data-id="${space}"]`);
  assert.equal(await page.$eval(`#space-rows tr[data-id="${space}"] td.region`, (el) => el.textContent), "eu");
  await screenshot(page, "edge-3-spaces");

  await page.goto(`${edge.url}/dashboard/#/usage`);
  await page.waitForSelector("#region-capacity");
  await page.waitForSelector("#region-bar");
  assert.match(await text("#per-region-note"), /kept by each region until a shared control plane exists/);
  const states = await page.$$eval("#region-capacity tr[data-region]", (rows) => rows.map((r) => [r.getAttribute("data-region"), r.querySelector(".region-state")?.textContent]));
  assert.deepEqual(states, [["us-west", "up"], ["eu", "up"]]);
  // Pick eu: the usage shown is eu's (what eu's hostd answers for this key).
  await page.select("#region-pick", "eu");
  await page.waitForFunction(() => (document.querySelector("#per-region-note")?.textContent ?? "").includes("shows eu's"));
  const euUsage = (await (await call(origins[1]!.hostd.url, "GET", "/v1/usage")).json()) as { sandboxes_created: number };
  await waitText("#usage-created", new RegExp(`^${euUsage.sandboxes_created}$`));
  await screenshot(page, "edge-4-usage-per-region");
  await page.goto(`${edge.url}/dashboard/#/keys`);
  await page.waitForSelector("#region-bar");
  assert.equal(await page.$eval("#region-pick", (el) => (el as HTMLSelectElement).value), "eu", "the pick is kept for the tab");
  await screenshot(page, "edge-5-keys-per-region");
  assert.deepEqual(unexpected(), []);
});

test("one origin killed: its region shows down, the other region's sandboxes stay listed and usable", async () => {
  await origins[0]!.hostd.stop("SIGKILL");
  await eventually(() => !edge.regions.byName("us-west")!.healthy, "the edge did not notice us-west is down", 10_000);

  await page.goto(`${edge.url}/dashboard/#/sandboxes`);
  await waitText("#regions-down", /us-west is down \(cannot reach its hostd/);
  await page.waitForSelector(`tr[data-id="${ids["eu"]}"]`);
  assert.equal(await page.$(`tr[data-id="${ids["us-west"]}"]`), null, "a down region's sandboxes cannot be listed");
  assert.equal(await page.$eval('#new-region option[value="us-west"]', (o) => (o as HTMLOptionElement).disabled), true);
  await screenshot(page, "edge-6-region-down");

  assert.match(await runInConsole(ids["eu"]!, "print('eu still', 2 + 2)"), /eu still 4/);

  // A down region's sandbox page says why instead of breaking.
  await page.goto(`${edge.url}/dashboard/#/sandboxes/${ids["us-west"]}`);
  await waitText("#app .error", /region us-west cannot be reached/);
  await screenshot(page, "edge-7-sandbox-in-down-region");

  await page.goto(`${edge.url}/dashboard/#/usage`);
  await page.waitForSelector("#region-capacity");
  assert.match(await page.$eval('#region-capacity tr[data-region="us-west"] .region-state', (el) => el.textContent ?? ""), /^down/);
  await page.goto(`${edge.url}/dashboard/#/spaces`);
  await waitText("#regions-down", /us-west/);
  assert.deepEqual(unexpected(), []);
});
