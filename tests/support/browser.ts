// Headless Chromium (Debian's `chromium` package, installed by scripts/setup-host.sh) driven by
// puppeteer-core, for the dashboard tests. Fails loudly when the browser is missing.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

// Compiled into tests/dist/support/: the repository is three levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where the dashboard tests write their screenshots for review (gitignored). */
export const screenshotDir = process.env.PODFLARE_SCREENSHOT_DIR || path.join(root, "tests/dashboard/screenshots");

const candidates = [process.env.PODFLARE_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);

export async function launchBrowser(): Promise<Browser> {
  const executablePath = candidates.find((p) => fs.existsSync(p));
  if (!executablePath) {
    throw new Error(`no Chromium at ${candidates.join(" or ")}: install it with \`apt-get install -y chromium\` (scripts/setup-host.sh does), or set PODFLARE_CHROMIUM`);
  }
  fs.mkdirSync(screenshotDir, { recursive: true });
  return puppeteer.launch({
    executablePath,
    headless: true,
    // --no-sandbox only for this test browser: the tests run as root (they need it for
    // namespaces and cgroups), and Chromium refuses to start its own sandbox as root. The pages
    // it opens are our dashboard on loopback.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"],
  });
}

/** A fresh page (its own session storage) that records console errors and page errors. */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) as `${string}.png`, fullPage: true });
}
