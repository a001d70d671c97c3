// The console shows a python exception's `error` event as one marked line (name: value) after
// its traceback on stderr; bash sends none. Headless Chromium against the shared test hostd (auth
// off on loopback: any key signs in as the local caller).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser } from "puppeteer-core";
import { SandboxPool, hostdUrl } from "../support/api.js";
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

test("an exception shows its traceback on stderr, then its error event as a marked line; the exit code last", async () => {
  const id = await pool.create();
  const { page, errors } = await newPage(browser);
  await signIn(page, hostdUrl(), "any-key-auth-is-off-here");
  await page.goto(`${hostdUrl()}/dashboard/#/sandboxes/${id}`);
  await page.waitForSelector("#code");
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = "print('before')\n{}['missing']"));
  await page.click("#run");
  await page.waitForFunction(() => /exit 1/.test(document.querySelector("#run-status")?.textContent ?? ""), { timeout: 30_000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; status ${JSON.stringify(await page.$eval("#run-status", (e) => e.textContent))}, output ${JSON.stringify(await page.$eval("#output", (e) => e.textContent))}`);
  });
  const parts = await page.$$eval("#output > span", (ss) => ss.map((s) => [s.className, s.textContent ?? ""]));
  const kinds = parts.map(([k]) => k);
  assert.equal(kinds[0], "stdout");
  assert.ok(kinds.indexOf("error-event") > kinds.indexOf("stderr"), `the error line comes after the traceback: ${kinds}`);
  assert.deepEqual(parts.find(([k]) => k === "error-event"), ["error-event", "KeyError: 'missing'\n"]);
  assert.match(parts.filter(([k]) => k === "stderr").map(([, t]) => t).join(""), /Traceback[\s\S]*KeyError: 'missing'/);
  await screenshot(page, "sandbox-console-error");

  await page.select("#language", "bash");
  await page.$eval("#code", (el) => ((el as HTMLTextAreaElement).value = "ls /nonexistent"));
  await page.click("#run");
  await page.waitForFunction(() => /exit 2/.test(document.querySelector("#run-status")?.textContent ?? ""), { timeout: 30_000 });
  assert.equal(await page.$("#output .error-event"), null, "bash sends no error event");
  assert.deepEqual(errors, []);
  await page.browserContext().close();
});
