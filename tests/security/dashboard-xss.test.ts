// Sandbox code is hostile, and the dashboard shows what it produces: output lines, rich results
// (a MIME bundle the code controls, forged frames included), exceptions and file names. None of
// it may become markup or script in the dashboard's origin, where the signed-in key lives in
// sessionStorage. Runs in headless Chromium against the shared test hostd (auth off on loopback:
// any key signs in as the local caller).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "puppeteer-core";
import { SandboxPool, api, exec, hostdUrl } from "../support/api.js";
import { launchBrowser, newPage, screenshot, signIn } from "../support/browser.js";

const pool = new SandboxPool();
let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await pool.closeAll();
});

// Each payload, if it ever ran, sets window.__pwned to where it came from.
const img = (tag: string) => `<img src=x onerror="window.__pwned='${tag}'">`;
const script = (tag: string) => `<script>window.__pwned='${tag}'</script>`;

/** What the test looks for in the dashboard's own document after the attack. */
async function damage(page: Page): Promise<{ pwned: unknown; injected: string[]; handlers: string[] }> {
  return page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    // Markup a payload could have made: an <img src=x>, an inline <script>, an <iframe>, an <svg>.
    injected: [...document.querySelectorAll("img[src=x], script:not([src]), iframe, svg, object, embed")].map((e) => e.outerHTML.slice(0, 120)),
    handlers: [...document.querySelectorAll("*")].flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${e.tagName} ${a.name}`)),
  }));
}

async function runInConsole(page: Page, code: string, language = "python"): Promise<void> {
  await page.select("#language", language);
  await page.$eval("#code", (el, v) => ((el as HTMLTextAreaElement).value = v), code);
  await page.click("#run");
  // Done when it shows its exit, or the console gave up (the Run button back, no status): then
  // the output says why, and the test says it rather than timing out.
  await page.waitForFunction(() => {
    const status = document.querySelector("#run-status")?.textContent ?? "";
    return /exit \d+/.test(status) || (status === "" && !(document.querySelector("#run") as HTMLButtonElement).disabled);
  }, { timeout: 30_000 });
  const status = await page.$eval("#run-status", (el) => el.textContent ?? "");
  if (!/exit \d+/.test(status)) throw new Error(`the console's run failed: ${await page.$eval("#output", (el) => el.textContent ?? "")}`);
}

test("output, rich results, forged frames, exceptions and file names from a sandbox never become markup or script in the dashboard", async () => {
  const id = await pool.create();
  // File names are the sandbox's to choose: markup in a name, and a directory named like a URL.
  const names = [img("file"), `<svg onload="window.__pwned='file2'">.txt`];
  const made = await exec(id, `import os\nfor n in ${JSON.stringify(names)}:\n    open('/root/' + n, 'w').close()\nos.makedirs("/root/javascript:window.__pwned=1", exist_ok=True)`);
  assert.equal(made.exitCode, 0, made.stderr);

  const { page, errors } = await newPage(browser);
  await signIn(page, hostdUrl(), "any-key-auth-is-off-here");
  await page.goto(`${hostdUrl()}/dashboard/#/sandboxes/${id}`);
  await page.waitForSelector("#code");
  await page.waitForSelector("#file-rows tr[data-name]");

  // 1. Output lines, both streams.
  await runInConsole(page, `import sys\nprint(${JSON.stringify(img("stdout") + script("stdout-script"))})\nprint(${JSON.stringify(img("stderr"))}, file=sys.stderr)`);
  // 2. Rich results the normal way: HTML, SVG, markdown and a repr that are all markup.
  await runInConsole(page, [
    "class Evil:",
    `    def _repr_html_(self): return ${JSON.stringify(script("html") + img("html-img"))}`,
    `    def _repr_svg_(self): return ${JSON.stringify(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned='svg'"><script>window.__pwned='svg2'</script></svg>`)}`,
    `    def _repr_markdown_(self): return ${JSON.stringify(`[x](javascript:window.__pwned='md') ${img("md-img")}`)}`,
    `    def __repr__(self): return ${JSON.stringify(img("repr"))}`,
    "display(Evil())",
    "Evil()",
  ].join("\n"));
  // 3. Forged result frames straight on the kernel's connection: an "image" whose base64 is an
  //    attribute breakout, a javascript: URL, and an SVG image.
  await runInConsole(page, [
    "import builtins, json",
    "conn, jid = builtins.display.__self__.sink",
    `conn.send({"t": "result", "id": jid, "main": False}, json.dumps({"text/plain": "p", "image/png": ${JSON.stringify(`x" onerror="window.__pwned='png'`)}}).encode())`,
    `conn.send({"t": "result", "id": jid, "main": False}, json.dumps({"text/plain": "j", "image/jpeg": "javascript:window.__pwned='jpeg'"}).encode())`,
    `conn.send({"t": "result", "id": jid, "main": False}, json.dumps({"text/plain": "s", "image/svg+xml": ${JSON.stringify(`<svg onload="window.__pwned='svgimg'"/>`)}}).encode())`,
    `conn.send({"t": "exc", "id": jid, "name": ${JSON.stringify(img("exc-name"))}, "value": ${JSON.stringify(script("exc-value"))}, "traceback": ${JSON.stringify(img("tb"))}})`,
    "print('sent')",
  ].join("\n"));
  // 4. A real exception whose message is markup (its traceback comes on stderr).
  await runInConsole(page, `raise ValueError(${JSON.stringify(img("exception"))})`);
  // The exception shows as one marked line, its markup as text.
  assert.equal(await page.$eval("#output .error-event", (e) => e.textContent), `ValueError: ${img("exception")}\n`);
  // 5. Bash output.
  await runInConsole(page, `printf '%s\\n' ${JSON.stringify(img("bash"))}`, "bash");
  await page.click("#files-go");
  await page.waitForSelector("#file-rows tr[data-name]");
  await screenshot(page, "security-xss-console");

  // Let any onerror/onload that could fire, fire: a missing image errors within a tick of insertion.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  const d = await damage(page);
  assert.equal(d.pwned, undefined, `a payload ran: ${String(d.pwned)}`);
  assert.deepEqual(d.injected, [], "no element came from sandbox text");
  assert.deepEqual(d.handlers, [], "no inline event handler attribute exists anywhere in the page");
  // What was shown is the text itself, and the only images are the dashboard's data: PNG/JPEG figures.
  const shown = await page.$eval("#output", (el) => el.textContent ?? "");
  assert.ok(shown.includes(img("bash")), "markup shows as text");
  const imgs = await page.$$eval("#output img", (is) => is.map((i) => i.getAttribute("src") ?? ""));
  assert.ok(imgs.every((s) => /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/=]*$/.test(s)), `images: ${imgs}`);
  const listed = await page.$$eval("#file-rows tr[data-name]", (rs) => rs.map((r) => r.textContent ?? ""));
  for (const n of names) assert.ok(listed.some((t) => t.includes(n)), `file name shown as text: ${n} in ${listed}`);
  assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/.test(e)), [], "nothing even reached the CSP");

  // The key is still only where the sign-in put it, and the page never put it in a URL.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("podflare.key") !== null || sessionStorage.length > 0), true);
  assert.ok(!page.url().includes("any-key"), page.url());
  await page.browserContext().close();
  // The sandbox is fine afterwards.
  assert.equal((await exec(id, "print('alive')")).stdout, "alive\n");
  await (await api("GET", `/v1/sandboxes/${id}`)).arrayBuffer();
});
