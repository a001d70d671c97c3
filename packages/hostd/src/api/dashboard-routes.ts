// The web dashboard's static files (packages/dashboard, built into its dist/) at /dashboard/.
// The files need no key: they hold no data, and the page asks for a key and sends it on every
// API call. Every answer carries a strict Content-Security-Policy: scripts and styles only from
// this origin, no inline script, nothing from a CDN, and the page cannot be framed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PodflareError } from "@podflare/protocol";
import type { Route, RouteMaker } from "./route.js";

/** Compiled into packages/hostd/dist/api/: the dashboard's build is packages/dashboard/dist. */
export const defaultDashboardDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../dashboard/dist");

export const dashboardCsp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // Figures come as base64 PNG/JPEG in exec results; downloads are blob: URLs.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  // text/html results are shown in <iframe sandbox srcdoc>: an opaque origin with no script.
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

// esbuild names bundles name-HASH.ext: such a file never changes, so browsers may keep it.
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

export function dashboardRoutes(route: RouteMaker, dir = process.env.PODFLARE_DASHBOARD_DIR || defaultDashboardDir): Route[] {
  const serve = (name: string) => (ctx: Parameters<Route["handle"]>[0]) => {
    const type = types[path.extname(name)];
    // One flat folder: a name with a slash, a leading dot or an unknown type is not ours.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) || !type) throw new PodflareError("not_found", `no dashboard file ${name}; open /dashboard/`);
    let body: Buffer;
    try {
      body = fs.readFileSync(path.join(dir, name));
    } catch {
      if (!fs.existsSync(path.join(dir, "index.html"))) {
        throw new PodflareError("unavailable", `the dashboard is not built (no ${dir}/index.html); run \`npm run build -w @podflare/dashboard\` (npm ci does it)`);
      }
      throw new PodflareError("not_found", `no dashboard file ${name}; open /dashboard/`);
    }
    ctx.res.writeHead(200, {
      "content-type": type,
      "content-length": body.length,
      "cache-control": HASHED.test(name) ? "public, max-age=31536000, immutable" : "no-cache",
      "content-security-policy": dashboardCsp,
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
    });
    ctx.res.end(body);
  };
  return [
    route("GET", "/dashboard", ({ res }) => {
      res.writeHead(308, { location: "/dashboard/" });
      res.end();
    }, false),
    route("GET", "/dashboard/", (ctx) => serve("index.html")(ctx), false),
    route("GET", "/dashboard/(.+)", (ctx) => serve(ctx.params[0]!)(ctx), false),
  ];
}
