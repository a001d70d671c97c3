// GET /dashboard/…: the web dashboard's static files (packages/dashboard: static/ and the
// browser modules tsc built into dist/), read once at start and served from memory. Only files
// found there are served, by exact name; the pages call the API with the key the user gave.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PodflareError } from "@podflare/protocol";
import type { Route, RouteMaker } from "./route.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

const HEADERS = {
  // Same-origin scripts, styles and API calls only: no inline script, no CDN, no framing.
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** packages/dashboard beside this package (hostd runs from the checkout). */
export function defaultDashboardDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../dashboard");
}

/** name under /dashboard/ → file contents and type: static/*.{html,css} and dist/**\/*.js. */
export function loadDashboard(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const add = (base: string, sub: string, exts: string[]) => {
    const root = path.join(base, sub);
    const walk = (rel: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const name = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(name);
        else if (e.isFile() && exts.includes(path.extname(e.name))) {
          files.set(name, { body: fs.readFileSync(path.join(root, name)), type: TYPES[path.extname(e.name)]! });
        }
      }
    };
    walk("");
  };
  add(dir, "static", [".html", ".css"]);
  add(dir, "dist", [".js"]);
  return files;
}

export function dashboardRoutes(route: RouteMaker, dir = defaultDashboardDir()): Route[] {
  const files = loadDashboard(dir);
  const serve = (name: string, res: import("node:http").ServerResponse) => {
    const file = files.get(name);
    if (!file) {
      throw new PodflareError(
        "not_found",
        files.size === 0 ? `the dashboard is not built in ${dir}: run \`npx tsc -b\` in the checkout and restart hostd` : `no dashboard file ${name}`,
      );
    }
    res.writeHead(200, { "content-type": file.type, "content-length": file.body.length, ...HEADERS });
    res.end(file.body);
  };
  return [
    route("GET", "/dashboard", ({ res }) => {
      res.writeHead(302, { location: "/dashboard/" });
      res.end();
    }, false),
    route("GET", "/dashboard/", ({ res }) => serve("index.html", res), false),
    route("GET", "/dashboard/(.+)", ({ res, params }) => serve(params[0]!, res), false),
  ];
}
