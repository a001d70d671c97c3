// The sandbox page's port panel in headless Chromium, against the shared test hostd (auth off on
// loopback: any key signs in as the local caller): a server inside, opened from the dashboard,
// shows its page in a sandboxed iframe where its script does not run; images as images, other
// answers as text;
// a port where nothing listens says so.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser } from "puppeteer-core";
import { SandboxPool, bash, exec, hostdUrl } from "../support/api.js";
import { until } from "../support/host.js";
import { consoleSettled, launchBrowser, newPage, screenshot, signIn } from "../support/browser.js";

const pool = new SandboxPool();
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await pool.closeAll();
});

test("open a port from the sandbox page: HTML in a sandboxed iframe (its script stays off), text as text, a closed port named", async () => {
  const id = await pool.create();
  const page = `<h1 id='inside'>served from the sandbox</h1><script>parent.__pwned = 'port'; document.title = 'ran'</script>`;
  const setup = await exec(id, `import os\nos.makedirs('/srv/site', exist_ok=True)\nopen('/srv/site/index.html', 'w').write(${JSON.stringify(page)})\nopen('/srv/site/notes.txt', 'w').write('plain <b>text</b>\\n')`);
  assert.equal(setup.exitCode, 0, setup.stderr);
  const started = await bash(id, "cd /srv/site && nohup python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &");
  assert.equal(started.exitCode, 0, started.stderr);
  await until(async () => (await fetch(`${hostdUrl()}/v1/sandboxes/${id}/ports/8000/`)).status === 200 || undefined, "the server inside answers");

  const { page: p, errors } = await newPage(browser);
  await signIn(p, hostdUrl(), "any-key-auth-is-off-here");
  await p.goto(`${hostdUrl()}/dashboard/#/sandboxes/${id}`);
  await p.waitForSelector("#port-open");
  await consoleSettled(p);
  assert.equal(await p.$eval("#port-url", (e) => e.textContent), `${hostdUrl()}/v1/sandboxes/${id}/ports/8000/`);
  await p.click("#port-open");
  await p.waitForSelector("#port-view iframe.port-frame").catch(async (err: Error) => {
    throw new Error(`${err.message}; the panel says ${JSON.stringify(await p.$eval("#port-status", (e) => e.textContent))}, shows ${JSON.stringify(await p.$eval("#port-view", (e) => e.innerHTML.slice(0, 300)))}`);
  });
  assert.match(await p.$eval("#port-status", (e) => e.textContent ?? ""), /^HTTP 200 text\/html/);
  const frame = await p.$eval("#port-view iframe", (f) => ({ sandbox: f.getAttribute("sandbox"), srcdoc: (f as HTMLIFrameElement).srcdoc, src: f.getAttribute("src") }));
  assert.equal(frame.sandbox, "", "no allow-scripts, no allow-same-origin");
  assert.equal(frame.src, null, "the page is not loaded by URL (the key never rides in one)");
  assert.match(frame.srcdoc, /served from the sandbox/);
  // The page rendered inside the frame, and its script did not run there or here.
  const inner = p.frames().find((f) => f !== p.mainFrame());
  assert.ok(inner, "the iframe has a document");
  await until(async () => ((await inner.evaluate(() => document.querySelector("#inside")?.textContent ?? "")) === "served from the sandbox") || undefined, "the frame shows the page");
  assert.notEqual(await inner.evaluate(() => document.title), "ran");
  assert.equal(await p.evaluate(() => (window as unknown as { __pwned?: string }).__pwned), undefined);
  await screenshot(p, "sandbox-port-html");

  await p.$eval("#port-path", (e) => ((e as HTMLInputElement).value = "/notes.txt"));
  await p.click("#port-open");
  await p.waitForSelector("#port-view pre.port-text");
  assert.equal(await p.$eval("#port-view pre.port-text", (e) => e.textContent), "plain <b>text</b>\n");
  assert.equal(await p.$("#port-view b"), null);

  // An image answer shows as an image (a data: URL: the CSP allows no blob:).
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  assert.equal((await exec(id, `import base64\nopen('/srv/site/dot.png', 'wb').write(base64.b64decode(${JSON.stringify(png)}))`)).exitCode, 0);
  await p.$eval("#port-path", (e) => ((e as HTMLInputElement).value = "/dot.png"));
  await p.click("#port-open");
  await p.waitForFunction(() => (document.querySelector("#port-view img") as HTMLImageElement | null)?.naturalWidth === 1, { timeout: 20_000 });
  assert.match(await p.$eval("#port-view img", (e) => e.getAttribute("src") ?? ""), /^data:image\/png;base64,/);

  await p.$eval("#port-number", (e) => ((e as HTMLInputElement).value = "8001"));
  await p.$eval("#port-path", (e) => ((e as HTMLInputElement).value = "/"));
  await p.click("#port-open");
  await p.waitForFunction(() => /^HTTP 502/.test(document.querySelector("#port-status")?.textContent ?? ""), { timeout: 20_000 });
  assert.match(await p.$eval("#port-view .error", (e) => e.textContent ?? ""), /8001/);
  await screenshot(p, "sandbox-port-closed");
  // Chromium's own line for the page's script it refused to run is the one error expected.
  const blocked = /Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/;
  assert.ok(errors.some((e) => blocked.test(e)), `the frame's script was refused: ${errors}`);
  assert.deepEqual(errors.filter((e) => !/status of 502/.test(e) && !blocked.test(e)), []);
  await p.browserContext().close();
});

test("a redirect from the sandbox's server is not followed with the key: the panel says so and shows nothing of its target", async () => {
  const id = await pool.create();
  // A server inside that sends every request to one of hostd's own routes.
  const server = [
    "import http.server",
    "class R(http.server.BaseHTTPRequestHandler):",
    "    def do_GET(self):",
    "        self.send_response(302)",
    "        self.send_header('Location', '/v1/sandboxes')",
    "        self.send_header('Content-Length', '0')",
    "        self.end_headers()",
    "http.server.HTTPServer(('127.0.0.1', 8002), R).serve_forever()",
  ].join("\n");
  assert.equal((await exec(id, `open('/srv-redirect.py', 'w').write(${JSON.stringify(server)})`)).exitCode, 0);
  assert.equal((await bash(id, "nohup python3 /srv-redirect.py >/dev/null 2>&1 &")).exitCode, 0);
  await until(async () => (await fetch(`${hostdUrl()}/v1/sandboxes/${id}/ports/8002/`, { redirect: "manual" })).status === 302 || undefined, "the server inside answers");

  const { page: p } = await newPage(browser);
  await signIn(p, hostdUrl(), "any-key-auth-is-off-here");
  await p.goto(`${hostdUrl()}/dashboard/#/sandboxes/${id}`);
  await p.waitForSelector("#port-open");
  await consoleSettled(p);
  await p.$eval("#port-number", (e) => ((e as HTMLInputElement).value = "8002"));
  await p.click("#port-open");
  await p.waitForFunction(() => /redirect/.test(document.querySelector("#port-status")?.textContent ?? ""), { timeout: 20_000 });
  assert.match(await p.$eval("#port-view .error", (e) => e.textContent ?? ""), /not followed/);
  const shown = await p.$eval("#port-view", (e) => e.textContent ?? "");
  assert.doesNotMatch(shown, /sandboxes|"id"/, `the redirect's target was fetched and shown: ${shown}`);
  await p.browserContext().close();
});
