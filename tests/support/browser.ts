// Headless Chromium (Debian's `chromium`, installed by scripts/setup-host.sh) driven by
// puppeteer-core, for tests that open the dashboard. Fails loudly when the browser is missing.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM = process.env.PODFLARE_CHROMIUM || "/usr/bin/chromium";
/** Where browser tests write screenshots for review (docs/dashboard.md). */
export const screenshotDir = process.env.PODFLARE_SCREENSHOT_DIR || "/tmp/podflare-dashboard-screenshots";

export async function launchBrowser(): Promise<Browser> {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup-host.sh does), or set PODFLARE_CHROMIUM`);
  fs.mkdirSync(screenshotDir, { recursive: true });
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      // Only for this test browser: the tests run as root, and Chromium will not start its own
      // sandbox as root. The pages it opens are our dashboard on loopback.
      "--no-sandbox",
      // Loopback only: no name resolves but 127.0.0.1, and anything else goes to a dead local proxy.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=http://127.0.0.1:9",
      "--proxy-bypass-list=127.0.0.1",
      "--disable-component-update",
      "--no-pings",
    ],
  });
}

/** A page in a fresh context (its own sessionStorage) recording page errors and console errors. */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1200, height: 800 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${String(e)}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

/**
 * Waits until a sandbox's console page has its late parts in (the stats line, the files list):
 * each moves what is below it, and a click aimed before the move lands beside its button (the
 * port panel's Open, below the files list, was missed that way in CI).
 */
export async function consoleSettled(page: Page): Promise<void> {
  await page.waitForSelector("#sandbox-stats b");
  await page.waitForFunction(() => document.querySelector("#file-rows tr") !== null || (document.querySelector("#files-status")?.textContent ?? "") !== "");
}

/** Signs in on the dashboard at `base` with `key` and waits for the navigation. */
export async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/dashboard/`);
  await page.waitForSelector("#api-key");
  await page.type("#api-key", key);
  await page.click("#sign-in-button");
  await page.waitForSelector("#nav-sandboxes");
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) as `${string}.png`, fullPage: true });
}
