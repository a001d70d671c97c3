#!/usr/bin/env node
// Builds the dashboard into dist/: type-checks src/, bundles src/main.ts and static/app.css with
// esbuild into content-hashed files (hostd lets browsers cache those for good), and writes
// index.html pointing at them. Run by the root `npm ci`/`npm run build` (the `prepare` script).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const require = createRequire(import.meta.url);

try {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(here, "tsconfig.json")], { stdio: "inherit" });
} catch {
  console.error("dashboard: type errors (above); not built");
  process.exit(1);
}

fs.rmSync(dist, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { app: path.join(here, "src/main.ts"), style: path.join(here, "static/app.css") },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  entryNames: "[name]-[hash]",
  outdir: dist,
  metafile: true,
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = outputs.find((f) => f.startsWith("app-") && f.endsWith(".js"));
const css = outputs.find((f) => f.startsWith("style-") && f.endsWith(".css"));
if (!js || !css) throw new Error(`esbuild made ${outputs.join(", ")}: no app-*.js or style-*.css`);
const html = fs.readFileSync(path.join(here, "static/index.html"), "utf8").replace("{{JS}}", js).replace("{{CSS}}", css);
fs.writeFileSync(path.join(dist, "index.html"), html);
fs.copyFileSync(path.join(here, "static/favicon.svg"), path.join(dist, "favicon.svg"));
console.log(`dashboard: built ${js}, ${css}, index.html into ${path.relative(process.cwd(), dist) || "."}`);
