// `podflare template build NAME [--force]` and `podflare template ls`.
import { loadConfig } from "@podflare/hostd";
import { createStoragePool, createTemplateManager, renderProgress } from "@podflare/hostd/storage";

export async function templateCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const cfg = loadConfig();
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const pool = await createStoragePool({ stateDir: cfg.stateDir, driver: cfg.storageDriver, poolSizeGb: cfg.poolSizeGb, log });
  const templates = createTemplateManager({ pool, cacheDir: cfg.templateCacheDir, uidBase: cfg.uidBase, log });

  if (sub === "ls") {
    const list = await templates.listTemplates();
    console.log(["NAME".padEnd(16), "READY".padEnd(6), "SIZE".padEnd(10), "BUILT"].join("  "));
    for (const t of list) {
      const size = t.sizeBytes ? `${Math.round(t.sizeBytes / 1024 / 1024)} MB` : "-";
      console.log([t.name.padEnd(16), (t.ready ? "yes" : "no").padEnd(6), size.padEnd(10), t.builtAt ?? "-"].join("  "));
    }
    return 0;
  }
  if (sub === "build") {
    const force = rest.includes("--force");
    const names = rest.filter((a) => !a.startsWith("--"));
    if (!names.length) {
      console.error("usage: podflare template build NAME [--force]   (NAME: default, python-datasci)");
      return 2;
    }
    for (const name of names) {
      const render = renderProgress(process.stderr);
      const started = Date.now();
      const info = force
        ? await templates.buildTemplate(name, { onProgress: render, force: true })
        : await templates.ensureTemplate(name, { onProgress: render });
      render.end(`template ${name} ready (${Math.round((info.sizeBytes ?? 0) / 1024 / 1024)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    return 0;
  }
  console.error("usage: podflare template build NAME [--force] | podflare template ls");
  return 2;
}
