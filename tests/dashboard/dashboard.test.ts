// The dashboard (issue 19) in a real browser: Debian's chromium driven by puppeteer-core, against
// a hostd of this test's own with keys. Signs in (a wrong key is refused), creates a sandbox,
// runs code and reads its streamed output, pauses, resumes and closes sandboxes, shows usage,
// and lets an admin create (shown once) and revoke a key.
// Screenshots of every page go to PODFLARE_SCREENSHOT_DIR (default /tmp/podflare-dashboard-screenshots).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { api } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("dashboard", 29);
const key = "pf_live_dashboard_test_0123456789abcdefgh";
const adminKey = "pf_admin_dashboard_test_0123456789abcdef";
const shots = process.env.PODFLARE_SCREENSHOT_DIR || "/tmp/podflare-dashboard-screenshots";
const CHROMIUM = "/usr/bin/chromium";
/** A 1×1 PNG, what a cell's figure looks like on the wire (base64 in a result event). */
const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
let hostd: TestHostd;
let browser: Browser;
let page: Page;
/** What the page logged as an error (a CSP refusal, an exception): none is expected. */
const pageErrors: string[] = [];

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (scripts/setup-host.sh does)`);
  fs.mkdirSync(stateDir, { recursive: true });
  fs.mkdirSync(shots, { recursive: true });
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: key, PODFLARE_ADMIN_KEY: adminKey } });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", // root in a container: chromium's own sandbox needs user namespaces it may not get
      // Loopback only: no name resolves but 127.0.0.1, and anything else goes to a dead local proxy.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=http://127.0.0.1:9",
      "--proxy-bypass-list=127.0.0.1",
      "--disable-component-update",
      "--no-pings",
    ],
  });
  page = await browser.newPage();
  page.on("console", (m) => {
    // The refused sign-in's 401 and the tenant's 403 on keys are the browser's own console
    // lines for answers the pages expect; a 404 (a missing file) is not.
    if (m.type() === "error" && !/status of 40[13] /.test(m.text())) pageErrors.push(m.text());
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.setViewport({ width: 1200, height: 800 });
});

after(async () => {
  await browser?.close();
  if (hostd) {
    const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, { authorization: `Bearer ${key}` })).json()) as { sandboxes?: { id: string }[] };
    for (const s of list.sandboxes ?? []) await (await api("DELETE", `/v1/sandboxes/${s.id}`, undefined, hostd.url, { authorization: `Bearer ${key}` })).arrayBuffer();
    await hostd.stop();
  }
  teardownStateDir(stateDir);
});

async function signIn(k: string): Promise<void> {
  await page.goto(`${hostd.url}/dashboard/`);
  if (await page.$("#sign-out")) await page.click("#sign-out");
  await page.waitForSelector("#api-key");
  await page.type("#api-key", k);
  await page.click("#sign-in-button");
  await page.waitForSelector("#nav-sandboxes");
}

const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? "");
const waitText = (selector: string, pattern: RegExp, timeout = 30_000) =>
  page.waitForFunction((sel, src) => new RegExp(src).test(document.querySelector(sel)?.textContent ?? ""), { timeout }, selector, pattern.source);

test("static files come with a strict CSP; only built files are served", async () => {
  const res = await fetch(`${hostd.url}/dashboard/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-security-policy")!, /script-src 'self'/);
  assert.match(await res.text(), /<script type="module" src="main.js">/);
  const js = await fetch(`${hostd.url}/dashboard/pages/console.js`);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  await js.arrayBuffer();
  for (const p of ["/dashboard/..%2f..%2fpackage.json", "/dashboard/api.d.ts", "/dashboard/%2e%2e/hostd/dist/index.js"]) {
    const r = await fetch(`${hostd.url}${p}`);
    assert.equal(r.status, 404, p);
    await r.arrayBuffer();
  }
});

test("a wrong key is refused and nothing is kept", async () => {
  await page.goto(`${hostd.url}/dashboard/`);
  await page.waitForSelector("#api-key");
  await shot("1-sign-in");
  await page.type("#api-key", "pf_live_wrong_key_0000000000000000000000");
  await page.click("#sign-in-button");
  await waitText("#sign-in-error", /refused/);
  await shot("2-sign-in-refused");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("sign in, create a sandbox, run code and see its output stream, close it", async () => {
  await page.goto(`${hostd.url}/dashboard/`);
  await page.waitForSelector("#api-key");
  await page.type("#api-key", key);
  await page.click("#sign-in-button");
  await page.waitForSelector("#new-sandbox");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("podflare.apiKey")), key);
  assert.ok(!page.url().includes(key), "the key is never in the URL");
  await shot("3-sandboxes-empty");

  await page.click("#new-sandbox");
  await page.waitForSelector("#code");
  const id = /#\/sandboxes\/(sbx_[0-9a-f]{32})$/.exec(page.url())?.[1];
  assert.ok(id, `the console's URL names the sandbox: ${page.url()}`);
  await waitText("#sandbox-stats", /Memory/);

  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", 'import sys\nfor i in range(3): print("line", i)\nprint("oops", file=sys.stderr)\nx = 6 * 7\nprint(x)');
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  const out = await text("#output");
  assert.match(out, /line 0\nline 1\nline 2\n/);
  assert.match(out, /oops/);
  assert.match(out, /42/);
  assert.equal(await page.$eval("#output .stderr", (el) => el.textContent), "oops\n");
  await shot("4-console");

  // Output arrives while the code runs, not at its end.
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", 'import time\nprint("first", flush=True)\nwhile not __import__("os").path.exists("/tmp/go"): time.sleep(0.05)\nprint("second")');
  await page.click("#run");
  await waitText("#output", /first/);
  assert.doesNotMatch(await text("#output"), /second/);
  await api("PUT", `/v1/sandboxes/${id}/files?path=/tmp/go`, "x", hostd.url, { authorization: `Bearer ${key}` }).then((r) => r.arrayBuffer());
  await waitText("#output", /second/);
  await waitText("#run-status", /exit 0/);

  // Rich results: a figure (PNG) is shown as an image, a value as text, a sandbox's HTML never as markup.
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.$eval("#code", (el, code) => ((el as HTMLTextAreaElement).value = code), [
    "import base64",
    "class Fig:",
    `    def _repr_png_(self): return base64.b64decode("${PNG_1PX}")`,
    "class Html:",
    '    def _repr_html_(self): return "<b id=\'rich\'>bold</b>"',
    "    def __repr__(self): return 'Html()'",
    "display(Fig())",
    "display(Html())",
    "6 * 7",
  ].join("\n"));
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  await page.waitForFunction(() => (document.querySelector("#output img.figure") as HTMLImageElement | null)?.naturalWidth === 1, { timeout: 30_000 });
  assert.deepEqual(await page.$$eval("#output .result", (els) => els.map((e) => e.textContent)), ["Html()\n", "42\n"]);
  assert.equal(await page.$("#output #rich"), null);
  await shot("4a-console-rich");

  // Markup printed by the sandbox stays text.
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", 'print("<img src=x onerror=alert(1)><b>bold</b>")');
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  assert.equal(await page.$$eval("#output img, #output b", (els) => els.length), 0);

  // Files: upload into /root, see it listed with its size, download it, go into a directory.
  const local = path.join(shots, "upload-me.txt");
  fs.writeFileSync(local, "hello from the browser\n");
  await page.waitForSelector("#file-rows");
  const picker = await page.$("#upload-file");
  await (picker as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(local);
  await waitText("#files-status", /uploaded upload-me.txt \(23 bytes\)/);
  assert.match(await text('#file-rows tr[data-name="upload-me.txt"]'), /23 B/);
  const stored = await api("GET", `/v1/sandboxes/${id}/files?path=/root/upload-me.txt`, undefined, hostd.url, { authorization: `Bearer ${key}` });
  assert.equal(await stored.text(), "hello from the browser\n");
  await page.click('#file-rows tr[data-name="upload-me.txt"] button.download');
  await waitText("#files-status", /downloaded upload-me.txt \(23 bytes\)/);
  await api("POST", `/v1/sandboxes/${id}/exec`, { code: "mkdir -p /root/sub && echo hi > /root/sub/inner.txt", language: "bash" }, hostd.url, { authorization: `Bearer ${key}` }).then((r) => r.text());
  await page.click("#files-go");
  await page.waitForSelector('#file-rows tr[data-name="sub"] a.dir');
  await page.click('#file-rows tr[data-name="sub"] a.dir');
  await page.waitForSelector('#file-rows tr[data-name="inner.txt"]');
  assert.equal(await page.$eval("#files-path", (el) => (el as HTMLInputElement).value), "/root/sub");
  await shot("4b-console-files");

  await page.click("#close-sandbox");
  await page.waitForSelector("#new-sandbox");
  await waitText("#sandbox-rows", /No sandboxes/);
});

test("freeze a sandbox to a Space from its console, resume it with its REPL state, delete another", async () => {
  const as = { authorization: `Bearer ${key}` };
  const made: string[] = [];
  for (const code of ["x = 41", "y = 1"]) {
    const r = await api("POST", "/v1/sandboxes", {}, hostd.url, as);
    const sid = ((await r.json()) as { id: string }).id;
    await api("POST", `/v1/sandboxes/${sid}/exec`, { code }, hostd.url, as).then((x) => x.text());
    made.push(sid);
  }
  for (const sid of made) {
    await page.goto(`${hostd.url}/dashboard/#/sandboxes/${sid}`);
    await page.reload(); // a hash change alone keeps the page: load this console afresh
    await page.waitForSelector("#freeze-sandbox");
    await page.click("#freeze-sandbox");
    await page.waitForSelector("#space-rows");
    await waitText("#space-rows", new RegExp(sid));
  }
  await shot("8-spaces");
  const spaces = (await (await api("GET", "/v1/spaces", undefined, hostd.url, as)).json()) as { spaces: { space_id: string; source_id: string }[] };
  const first = spaces.spaces.find((s) => s.source_id === made[0])!;
  const second = spaces.spaces.find((s) => s.source_id === made[1])!;
  await page.click(`#space-rows tr[data-id="${second.space_id}"] button.delete`);
  await page.waitForFunction((sid) => !document.querySelector(`#space-rows tr[data-id="${sid}"]`), { timeout: 30_000 }, second.space_id);
  await page.click(`#space-rows tr[data-id="${first.space_id}"] button.resume`);
  await page.waitForSelector("#code");
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", "print(x + 1)");
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  assert.match(await text("#output"), /^42\n/);
  await page.click("#close-sandbox");
  await page.waitForSelector("#new-sandbox");
  const left = (await (await api("GET", "/v1/spaces", undefined, hostd.url, as)).json()) as { spaces: { space_id: string }[] };
  assert.ok(!left.spaces.some((s) => s.space_id === first.space_id || s.space_id === second.space_id), "a Space resumes once; a deleted one is gone");
});

test("fork from the console: the child carries the REPL state and opens in its own console", async () => {
  const as = { authorization: `Bearer ${key}` };
  const r = await api("POST", "/v1/sandboxes", {}, hostd.url, as);
  const parent = ((await r.json()) as { id: string }).id;
  await api("POST", `/v1/sandboxes/${parent}/exec`, { code: "x = 5" }, hostd.url, as).then((x) => x.text());
  await page.goto(`${hostd.url}/dashboard/#/sandboxes/${parent}`);
  await page.reload();
  await page.waitForSelector("#fork-sandbox");
  await page.click("#fork-sandbox");
  await page.waitForSelector("#fork-children a.child");
  const child = await text("#fork-children a.child");
  assert.match(child, /^sbx_[0-9a-f]{32}$/);
  assert.notEqual(child, parent);
  await page.click("#fork-children a.child");
  await page.waitForFunction((c) => location.hash === `#/sandboxes/${c}` && document.querySelector("h1")?.textContent?.includes(c), { timeout: 30_000 }, child);
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = ""));
  await page.type("#code", "print(x * 2)");
  await page.click("#run");
  await waitText("#run-status", /exit 0/);
  assert.match(await text("#output"), /^10\n/);
  for (const sid of [child, parent]) await api("DELETE", `/v1/sandboxes/${sid}`, undefined, hostd.url, as).then((x) => x.arrayBuffer());
});

test("the list shows live sandboxes, pauses, resumes and closes one", async () => {
  const made: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api("POST", "/v1/sandboxes", {}, hostd.url, { authorization: `Bearer ${key}` });
    made.push(((await r.json()) as { id: string }).id);
  }
  // Already on the list (the console's close went back to it): the nav link reloads it.
  await page.click("#nav-sandboxes");
  await page.waitForSelector(`tr[data-id="${made[1]}"]`);
  assert.match(await text(`tr[data-id="${made[0]}"]`), /ready.*default/);
  // Pause and resume from the list: the state shown follows, and so does the API's.
  await page.click(`tr[data-id="${made[1]}"] button.pause`);
  await page.waitForSelector(`tr[data-id="${made[1]}"] button.resume`, { timeout: 30_000 });
  assert.match(await text(`tr[data-id="${made[1]}"]`), /paused/);
  await shot("5-sandboxes");
  const paused = (await (await api("GET", `/v1/sandboxes/${made[1]}`, undefined, hostd.url, { authorization: `Bearer ${key}` })).json()) as { state: string };
  assert.equal(paused.state, "paused");
  await page.click(`tr[data-id="${made[1]}"] button.resume`);
  await page.waitForSelector(`tr[data-id="${made[1]}"] button.pause`, { timeout: 30_000 });
  assert.match(await text(`tr[data-id="${made[1]}"]`), /ready/);
  await page.click(`tr[data-id="${made[0]}"] button.close`);
  await page.waitForFunction((id) => !document.querySelector(`tr[data-id="${id}"]`), { timeout: 30_000 }, made[0]);
  const left = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url, { authorization: `Bearer ${key}` })).json()) as { sandboxes: { id: string }[] };
  assert.deepEqual(left.sandboxes.map((s) => s.id), [made[1]]);
  await page.click("#sign-out");
  await page.waitForSelector("#api-key");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("usage shows the signed-in key's own counters", async () => {
  await signIn(key);
  await page.click("#nav-usage");
  await page.waitForSelector("#usage-execs");
  const want = (await (await api("GET", "/v1/usage", undefined, hostd.url, { authorization: `Bearer ${key}` })).json()) as { execs: number; sandboxes_created: number };
  assert.ok(want.execs >= 3, "the console's runs count");
  assert.equal(await text("#usage-execs"), String(want.execs));
  assert.equal(await text("#usage-created"), String(want.sandboxes_created));
  assert.match(await text("#capacity-sandboxes"), /^\d+ of \d+$/);
  assert.equal(await page.$("#capacity-pool"), null, "a tenant does not see the host's pool");
  await shot("6-usage");
});

test("a tenant's key sees that keys need an admin; an admin creates a key shown once and revokes it", async () => {
  await page.click("#nav-keys");
  await waitText("#keys-forbidden", /admin key/);
  await signIn(adminKey);
  await page.click("#nav-usage");
  await waitText("#capacity-pool", /^\d+ of \d+$/);
  await page.click("#nav-keys");
  await page.waitForSelector("#create-key");
  await page.type("#key-name", "from-dashboard");
  await page.select("#key-tier", "pro");
  await page.click("#create-key-button");
  await page.waitForSelector("#new-key-value");
  const made = await text("#new-key-value");
  assert.match(made, /^pf_live_[0-9A-Za-z]{40}$/);
  await shot("7-keys");
  const as = { authorization: `Bearer ${made}` };
  const ok = await api("GET", "/v1/sandboxes", undefined, hostd.url, as);
  assert.equal(ok.status, 200, "the new key works");
  await ok.arrayBuffer();
  const id = await text("#new-key-id");
  assert.match(await text(`#key-rows tr[data-id="${id}"]`), /from-dashboard.*pro/s);
  await page.click(`#key-rows tr[data-id="${id}"] button.revoke`);
  await page.waitForSelector(`#key-rows tr[data-id="${id}"] .revoked`);
  const refused = await api("GET", "/v1/sandboxes", undefined, hostd.url, as);
  assert.equal(refused.status, 401, "a revoked key is refused");
  await refused.arrayBuffer();
  // The key was shown once: after a reload the page has only its prefix.
  await page.reload();
  await page.waitForSelector(`#key-rows tr[data-id="${id}"] .revoked`);
  assert.ok(!(await page.content()).includes(made));
});

test("no page logged an error (a CSP refusal, an exception)", () => {
  assert.deepEqual(pageErrors, []);
});
