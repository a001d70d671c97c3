#!/usr/bin/env node
// The `podflare` bin. Committed, not built: npm links workspace bins before `prepare` builds
// dist/, so a bin pointing into dist/ got no link on a fresh clone and `npx podflare` ran the
// SDK package of that name instead. Builds the workspace first when dist/ is missing.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, "../dist/main.js");
if (!fs.existsSync(main)) {
  const root = path.resolve(here, "../../..");
  process.stderr.write("podflare: building the workspace (first run: dist/ is missing)\n");
  const tsc = createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
  // tsc -b trusts a tsbuildinfo even when its dist/ is gone: drop those first.
  for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
    const dir = path.join(root, "packages", pkg);
    if (!fs.existsSync(path.join(dir, "dist"))) fs.rmSync(path.join(dir, "tsconfig.tsbuildinfo"), { force: true });
  }
  const r = spawnSync(process.execPath, [tsc, "-b"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0 || !fs.existsSync(main)) {
    process.stderr.write(`podflare: the build failed; run \`npx tsc -b\` in ${root} and look at its errors\n`);
    process.exit(1);
  }
}
await import(pathToFileURL(main).href);
