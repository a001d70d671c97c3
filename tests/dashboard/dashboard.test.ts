// The web dashboard in a real browser (headless Chromium) against a real hostd of this file's own,
// with auth on (an admin key): sign in, wrong key, sandboxes, console with a figure, files,
// pause/resume, freeze → Space → resume, keys, usage charts, capacity. Screenshots of every page
// go to tests/dashboard/screenshots/ (PODFLARE_SCREENSHOT_DIR). Also, over plain HTTP: how the
// static files are served, and GET /v1/usage/history with snapshots taken every 300 ms.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { eventually, until } from "../support/host.js";
import { launchBrowser, newPage, screenshot } from "../support/browser.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("dashboard", 57);
const ADMIN = "pf_test_dashboard_admin_key_0123456789";
let hostd: TestHostd;
let browser: Browser;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pf-dash-"));

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_ADMIN_KEY: ADMIN, PODFLARE_USAGE_SNAPSHOT_MS: "300" } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (hostd) {
    const list = (await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[] };
    for (const s of list.sandboxes) await api("DELETE", `/v1/sandboxes/${s.id}`);
    const spaces = (await (await api("GET", "/v1/spaces")).json()) as { spaces: { space_id: string }[] };
    for (const s of spaces.spaces) await api("DELETE", `/v1/spaces/${s.space_id}`);
    await hostd.stop();
  }
  teardownStateDir(stateDir);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Page errors that matter: a 404 from GET /v1/sandboxes/:id/metrics (a hostd without that route) is expected. */
function real(errors: string[]): string[] {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
}

function api(method: string, p: string, body?: unknown, key = ADMIN): Promise<Response> {
  return fetch(hostd.url + p, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Waits until `selector` matches an element whose text matches `re`; returns that text. */
async function waitText(page: Page, selector: string, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const handle = await page.waitForFunction(
    (sel, src, flags) => [...document.querySelectorAll(sel)].map((e) => e.textContent ?? "").find((t) => new RegExp(src, flags).test(t)),
    { timeout: timeoutMs, polling: 50 },
    selector, re.source, re.flags,
  );
  return (await handle.jsonValue()) as string;
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${hostd.url}/dashboard/`);
  await page.waitForSelector("form.signin input[name=key]");
  await page.type("form.signin input[name=key]", key);
  await page.click("form.signin button[type=submit]");
}

test("static files: no key needed, right content types, caching and a strict CSP; the API still needs a key", async () => {
  const redirect = await fetch(`${hostd.url}/dashboard`, { redirect: "manual" });
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.get("location"), "/dashboard/");
  const index = await fetch(`${hostd.url}/dashboard/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(index.headers.get("cache-control"), "no-cache");
  const csp = index.headers.get("content-security-policy") ?? "";
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(csp.includes(d), `CSP has ${d}: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, "no inline script, no eval, no other origin");
  assert.equal(index.headers.get("x-content-type-options"), "nosniff");
  const html = await index.text();
  assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, "no inline script in index.html");
  const js = /src="(app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
  const css = /href="(style-[A-Z0-9]{8}\.css)"/.exec(html)?.[1];
  assert.ok(js && css, html);
  const jsRes = await fetch(`${hostd.url}/dashboard/${js}`);
  assert.equal(jsRes.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(jsRes.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal((await fetch(`${hostd.url}/dashboard/${css}`)).headers.get("content-type"), "text/css; charset=utf-8");
  for (const bad of ["..%2F..%2Fpackage.json", "%2e%2e/package.json", ".hidden.js", "nope.js"]) {
    const r = await fetch(`${hostd.url}/dashboard/${bad}`);
    assert.equal(r.status, 404, bad);
    assert.equal(((await r.json()) as { code: string }).code, "not_found");
  }
  assert.equal((await fetch(`${hostd.url}/v1/sandboxes`)).status, 401, "the API behind the page still needs a key");
});

test("sign-in: a wrong key is rejected and not kept; the right one is kept in sessionStorage only, never in the URL", async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, "pf_live_not_a_real_key_at_all");
  const msg = await waitText(page, "form.signin [role=alert]", /./);
  assert.match(msg, /key/i);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await screenshot(page, "01-signin-rejected");
  await page.type("form.signin input[name=key]", ADMIN);
  await page.click("form.signin button[type=submit]");
  await page.waitForSelector("main[data-page=sandboxes]");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("podflare.key")), ADMIN);
  assert.equal(await page.evaluate(() => localStorage.length + document.cookie.length), 0);
  assert.ok(!page.url().includes(ADMIN), page.url());
  await page.click("[data-action=sign-out]");
  await page.waitForSelector("form.signin");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "signing out forgets the key");
  assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
  await page.browserContext().close();
});

test("a sandbox from the dashboard: create, run python with a figure and bash, upload, pause/resume, freeze → Space → resume", async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, ADMIN);
  await page.waitForSelector("form[data-form=create]");
  await screenshot(page, "02-sandboxes-empty");
  await page.click("form[data-form=create] input[name=persistent]");
  await page.click("form[data-form=create] button[type=submit]");
  await page.waitForFunction(() => location.hash.startsWith("#/sandbox/sbx_"), { timeout: 60_000 });
  const id = page.url().split("#/sandbox/")[1]!;
  await waitText(page, "[data-col=state]", /^ready$/);

  // Python: streamed stdout, a PNG figure (from _repr_png_: the default template has no matplotlib), the main result, an error.
  const code = [
    "import struct, zlib",
    "def png(w, h):",
    "    raw = b''.join(b'\\x00' + b'\\xf3\\x80\\x20' * w for _ in range(h))",
    "    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))",
    "    return b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')",
    "class Figure:",
    "    def _repr_png_(self): return png(120, 60)",
    "print('hello from the dashboard')",
    "display(Figure())",
    "6 * 7",
  ].join("\n");
  await page.$eval("[data-panel=console] textarea", (el, v) => ((el as HTMLTextAreaElement).value = v), code);
  await page.click("[data-action=run]");
  await waitText(page, "[data-output] .exit", /^exit 0$/, 30_000);
  assert.match(await page.$eval("[data-output]", (el) => el.textContent ?? ""), /hello from the dashboard/);
  const img = await page.waitForFunction(() => {
    const i = document.querySelector<HTMLImageElement>("[data-output] .result img");
    return i && i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;
  }, { timeout: 10_000 });
  assert.deepEqual(await img.jsonValue(), [120, 60], "the figure decodes and shows");
  assert.match(await page.$eval("[data-output]", (el) => el.textContent ?? ""), /42/);
  await screenshot(page, "03-sandbox-console-figure");

  await page.$eval("[data-panel=console] textarea", (el) => ((el as HTMLTextAreaElement).value = "1/0"));
  await page.click("[data-action=run]");
  await waitText(page, "[data-output] .errorbox", /ZeroDivisionError: division by zero/, 30_000);
  await waitText(page, "[data-output] .exit", /^exit 1$/);

  await page.select("[data-panel=console] select[name=language]", "bash");
  await page.$eval("[data-panel=console] textarea", (el) => ((el as HTMLTextAreaElement).value = "echo $((6*7)) from bash; echo oops >&2"));
  await page.click("[data-action=run]");
  await waitText(page, "[data-output] .exit", /^exit 0$/, 30_000);
  assert.equal(await page.$eval("[data-output] .stdout", (el) => el.textContent), "42 from bash\n");
  assert.equal(await page.$eval("[data-output] .stderr", (el) => el.textContent), "oops\n");

  // Upload into /root and see it listed; the bytes arrive as sent.
  const local = path.join(tmp, "notes-from-browser.txt");
  fs.writeFileSync(local, "uploaded through the dashboard\n");
  const input = await page.$("[data-panel=files] input[type=file]");
  await input!.uploadFile(local);
  await page.waitForSelector("[data-panel=files] tr[data-file='notes-from-browser.txt']", { timeout: 20_000 });
  const got = await api("GET", `/v1/sandboxes/${id}/files?path=/root/notes-from-browser.txt`);
  assert.equal(await got.text(), "uploaded through the dashboard\n");
  await screenshot(page, "04-sandbox-files");

  // Pause and resume from the sandboxes list.
  await page.click("header nav a[data-page=sandboxes]");
  await page.waitForSelector(`tr[data-id='${id}'] [data-action=pause]`);
  await page.click(`tr[data-id='${id}'] [data-action=pause]`);
  await waitText(page, `tr[data-id='${id}'] [data-col=state]`, /^paused$/);
  assert.equal(((await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { state: string }).state, "paused");
  await screenshot(page, "05-sandboxes-paused");
  await page.click(`tr[data-id='${id}'] [data-action=resume]`);
  await waitText(page, `tr[data-id='${id}'] [data-col=state]`, /^ready$/);
  const metrics = await page.$eval(`tr[data-id='${id}'] [data-col=memory]`, (el) => el.textContent);
  assert.ok(metrics === "—" || /B/.test(metrics ?? ""), `memory shows a figure or "—": ${metrics}`);

  // Freeze to a Space, then resume it: a new sandbox with the uploaded file.
  await page.click(`tr[data-id='${id}'] a`);
  await page.waitForSelector("[data-action=freeze]");
  await page.click("[data-action=freeze]");
  await page.waitForFunction(() => location.hash.startsWith("#/spaces/spc_"), { timeout: 60_000 });
  const spaceId = page.url().split("#/spaces/")[1]!;
  await page.waitForSelector(`tr[data-id='${spaceId}'] [data-action=resume]`);
  await screenshot(page, "06-spaces");
  await page.click(`tr[data-id='${spaceId}'] [data-action=resume]`);
  await page.waitForFunction((old) => location.hash.startsWith("#/sandbox/sbx_") && !location.hash.endsWith(old), { timeout: 60_000 }, id);
  const resumed = page.url().split("#/sandbox/")[1]!;
  await page.waitForSelector("[data-panel=files] tr[data-file='notes-from-browser.txt']", { timeout: 20_000 });
  assert.equal((await api("GET", `/v1/spaces/${spaceId}`)).status, 404, "a Space resumes once");
  await page.click("[data-action=close]");
  await page.waitForSelector("main[data-page=sandboxes]");
  await eventually(async () => (await api("GET", `/v1/sandboxes/${resumed}`)).status === 404, "the resumed sandbox is closed");
  assert.deepEqual(real(errors), []);
  await page.browserContext().close();
});

test("keys (admin): create with a tier, shown once, works; revoke, and it is refused", async () => {
  const { page, errors } = await newPage(browser);
  await signIn(page, ADMIN);
  await page.waitForSelector("header nav a[data-page=keys]");
  await page.click("header nav a[data-page=keys]");
  await page.waitForSelector("form[data-form=create-key]");
  await page.type("form[data-form=create-key] input[name=name]", "dash-tenant");
  await page.select("form[data-form=create-key] select[name=tier]", "pro");
  await page.click("form[data-form=create-key] button[type=submit]");
  const key = (await waitText(page, "[data-secret]", /^pf_/)).trim();
  await page.waitForSelector("tr[data-name='dash-tenant']");
  await screenshot(page, "07-keys-created");
  const cap = await api("GET", "/v1/capacity", undefined, key);
  assert.equal(cap.status, 200);
  assert.deepEqual(((await cap.json()) as { scope: string; tier: string }), { scope: "owner", tier: "pro", sandboxes: 0, max_sandboxes: 50 });

  // The new tenant key signs in elsewhere and sees no keys page; the list no longer shows the secret.
  const tenant = await newPage(browser);
  await signIn(tenant.page, key);
  await tenant.page.waitForSelector("main[data-page=sandboxes]");
  assert.equal(await tenant.page.$("header nav a[data-page=keys]"), null);

  await page.reload();
  await page.waitForSelector("tr[data-name='dash-tenant'] [data-action=revoke]");
  assert.equal(await page.$("[data-secret]"), null, "the key is shown only once");
  await page.click("tr[data-name='dash-tenant'] [data-action=revoke]");
  await waitText(page, "tr[data-name='dash-tenant'] [data-col=revoked]", /^revoked/);
  assert.equal((await api("GET", "/v1/capacity", undefined, key)).status, 401);
  await screenshot(page, "08-keys-revoked");

  // The tenant's open dashboard is sent back to sign-in on its next call.
  await tenant.page.click("header nav a[data-page=capacity]");
  await waitText(tenant.page, "form.signin .notice", /rejected/);
  await tenant.page.browserContext().close();
  assert.deepEqual(real(errors), []);
  await page.browserContext().close();
});

test("usage history: snapshots over time per key (an admin sees every key, a tenant its own), and the usage and capacity pages", async () => {
  const tenantKey = ((await (await api("POST", "/v1/keys", { name: "usage-tenant", tier: "pro" })).json()) as { key: string; id: string });
  const sb = ((await (await api("POST", "/v1/sandboxes", {}, tenantKey.key)).json()) as { id: string }).id;
  await (await api("POST", `/v1/sandboxes/${sb}/exec`, { code: "print(1)" }, tenantKey.key)).text();
  type History = { interval_s: number; points: { owner: string; at: string; execs: number }[]; current: { owner: string; execs: number }[] };
  const mine = await until(async () => {
    const h = (await (await api("GET", "/v1/usage/history?since=0", undefined, tenantKey.key)).json()) as History;
    return h.points.some((p) => p.execs >= 1) && h.points.filter((p) => p.owner === tenantKey.id).length >= 2 ? h : undefined;
  }, "the tenant's running sandbox gives snapshots as its seconds grow");
  assert.equal(mine.interval_s, 0.3);
  assert.ok(mine.points.every((p) => p.owner === tenantKey.id), "a tenant sees only its own points");
  assert.deepEqual(mine.current.map((c) => c.owner), [tenantKey.id]);
  assert.ok(mine.points.every((p, i) => i === 0 || p.at >= mine.points[i - 1]!.at), "oldest first");
  const all = (await (await api("GET", "/v1/usage/history?since=0")).json()) as History;
  assert.ok(all.points.some((p) => p.owner === tenantKey.id) && all.points.some((p) => p.owner === "admin"), "an admin sees every key");
  const later = (await (await api("GET", `/v1/usage/history?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json()) as History;
  assert.deepEqual(later.points, []);
  const bad = await api("GET", "/v1/usage/history?since=yesterday");
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /ISO time/);
  await api("DELETE", `/v1/sandboxes/${sb}`);

  const { page, errors } = await newPage(browser);
  await signIn(page, ADMIN);
  await page.waitForSelector("header nav a[data-page=usage]");
  await page.click("header nav a[data-page=usage]");
  await page.waitForSelector(`[data-charts] svg.chart path[data-series='${tenantKey.id}']`);
  assert.equal(await page.$$eval("[data-charts] svg.chart", (s) => s.length), 4);
  await page.waitForSelector(`tr[data-owner='${tenantKey.id}']`);
  await screenshot(page, "09-usage");
  await page.click("header nav a[data-page=capacity]");
  await waitText(page, "[data-card=Sandboxes] .big", /^\d+ \/ \d+$/);
  await page.waitForSelector("[data-card=Hits]");
  await screenshot(page, "10-capacity");
  assert.deepEqual(real(errors), []);
  await page.browserContext().close();
});
