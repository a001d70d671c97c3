// `podflare template build NAME... [--force]` and `podflare template ls`. ls only reads: it never
// creates a state dir or storage pool, and never mounts one (hostd mounts it when it starts).
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "@podflare/hostd";
import { createStoragePool, createTemplateManager, openStoragePool, renderProgress, templateSpecs, type StoragePool } from "@podflare/hostd/storage";
import { parseOrHelp, subcommand, UsageError, type CommandSpec } from "./args.js";
import { stateDirLabel } from "./state-dir.js";
import { formatTable } from "./table.js";

const known = () => Object.keys(templateSpecs).join(", ");

const templateUsage = `usage: podflare template build NAME... [--force]
       podflare template ls

  Templates of the storage pool of PODFLARE_STATE_DIR (default /var/lib/podflare), as root.
  podflare template SUBCOMMAND --help: that subcommand's usage.`;

const buildSpec: CommandSpec = {
  usage: `usage: podflare template build NAME... [--force]

  Builds each template NAME (${known()}) unless it is built and current; --force rebuilds it
  from a fresh mmdebstrap. Creates the state dir and storage pool when missing. No hostd needed.`,
  options: [{ name: "--force" }],
  positionals: ["NAME"],
  variadic: true,
};

const lsSpec: CommandSpec = {
  usage: `usage: podflare template ls

  Lists the templates (name, ready, size, built) of the storage pool of PODFLARE_STATE_DIR.
  Fails, changing nothing, when that state dir has no pool or its pool is not mounted.`,
};

export async function templateCommand(args: string[]): Promise<number> {
  const sub = subcommand(templateUsage, ["build", "ls"], args);
  if (!sub) return 0;
  const parsed = parseOrHelp(sub.name === "build" ? buildSpec : lsSpec, sub.rest);
  if (!parsed) return 0;
  const cfg = loadConfig();
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  if (sub.name === "ls") {
    const pool = await readablePool(cfg);
    if (typeof pool === "string") {
      console.error(`podflare template ls: ${pool}`);
      return 1;
    }
    const list = await createTemplateManager({ pool, cacheDir: cfg.templateCacheDir, uidBase: cfg.uidBase, log }).listTemplates();
    const rows = list.map((t) => [t.name, t.ready ? "yes" : "no", t.sizeBytes ? `${Math.round(t.sizeBytes / 1024 / 1024)} MB` : "-", t.builtAt ?? "-"]);
    for (const line of formatTable([["NAME", "READY", "SIZE", "BUILT"], ...rows])) console.log(line);
    return 0;
  }

  const names = parsed.positionals;
  const unknown = names.find((n) => !Object.hasOwn(templateSpecs, n));
  if (unknown) throw new UsageError(`unknown template ${JSON.stringify(unknown)}; known templates: ${known()}`, buildSpec.usage);
  const pool = await createStoragePool({ stateDir: cfg.stateDir, driver: cfg.storageDriver, poolSizeGb: cfg.poolSizeGb, log });
  const templates = createTemplateManager({ pool, cacheDir: cfg.templateCacheDir, uidBase: cfg.uidBase, log });
  for (const name of names) {
    const render = renderProgress(process.stderr);
    const started = Date.now();
    const info = parsed.has("--force")
      ? await templates.buildTemplate(name, { onProgress: render, force: true })
      : await templates.ensureTemplate(name, { onProgress: render });
    render.end(`template ${name} ready (${Math.round((info.sizeBytes ?? 0) / 1024 / 1024)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return 0;
}

/** The state dir's pool as it is, or why it cannot be read without creating or mounting it. */
async function readablePool(cfg: ReturnType<typeof loadConfig>): Promise<StoragePool | string> {
  const label = stateDirLabel(cfg.stateDir);
  if (!fs.existsSync(path.join(cfg.stateDir, "storage.json"))) {
    return `${fs.existsSync(cfg.stateDir) ? `the state dir ${label} has no storage pool` : `the state dir ${label} does not exist`}, so no template is built there; nothing was created. Check PODFLARE_STATE_DIR; \`podflare serve\` or \`podflare template build default\` makes the pool`;
  }
  const pool = await openStoragePool({ stateDir: cfg.stateDir, driver: cfg.storageDriver, log: () => {} });
  // A loop-file btrfs pool shows its templates only while mounted: a different device from
  // the state dir's. Unmounted, the empty mount point would list every template as missing.
  const root = fs.statSync(pool.root, { throwIfNoEntry: false });
  if (root === undefined) return `the storage pool of ${label} has no ${pool.root}; nothing was created`;
  if (pool.driver === "btrfs" && root.dev === fs.statSync(cfg.stateDir).dev) {
    return `the btrfs storage pool of ${label} is not mounted on ${pool.root}; hostd mounts it when it starts (\`podflare serve\`)`;
  }
  return pool;
}
