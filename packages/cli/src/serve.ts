// `podflare serve`: check the host, install what is missing, build the default template with a
// progress display, then run hostd in the foreground until SIGINT/SIGTERM.
import { jsonLogger, loadConfig, startHostd } from "@podflare/hostd";
import { renderProgress, type ProgressRenderer } from "@podflare/hostd/storage";
import { setUpHost } from "./setup.js";
import { installServiceCommand } from "./service.js";
import { parseOrHelp, UsageError, type CommandSpec } from "./args.js";

const serveSpec: CommandSpec = {
  usage: `usage: podflare serve
       podflare serve --install-service [--env-path PATH] [--unit-dir DIR]

  Runs hostd in the foreground until SIGINT/SIGTERM, as root: installs the Debian packages it
  needs and builds the default template first (first run only). Settings: PODFLARE_* variables
  (docs/operations.md); it listens on PODFLARE_HOSTD_ADDR (default 127.0.0.1:7070).
  --install-service: install hostd as the systemd service podflare-hostd and start it instead;
  its settings go to --env-path (default /etc/podflare/hostd.env, kept if it exists), the unit
  to --unit-dir (default /etc/systemd/system).`,
  options: [{ name: "--install-service" }, { name: "--env-path", value: "PATH" }, { name: "--unit-dir", value: "DIR" }],
};

export async function serve(args: string[]): Promise<number> {
  const parsed = parseOrHelp(serveSpec, args);
  if (!parsed) return 0;
  if (parsed.has("--install-service")) return installServiceCommand({ envFile: parsed.value("--env-path"), unitDir: parsed.value("--unit-dir") });
  for (const name of ["--env-path", "--unit-dir"]) if (parsed.has(name)) throw new UsageError(`${name} goes with --install-service`, serveSpec.usage);
  const cfg = loadConfig();
  const log = jsonLogger();

  if (!(await setUpHost(log))) return 1;

  const renderers = new Map<string, ProgressRenderer>();
  const phases = new Map<string, string>();
  const hostd = await startHostd(cfg, {
    log,
    onTemplateProgress: (template, event) => {
      // Not a terminal (systemd, a log file): one JSON line per phase instead of a progress bar.
      if (!process.stderr.isTTY) {
        if (phases.get(template) !== event.phase) log(`template ${template}: ${event.phase}: ${event.message}`);
        phases.set(template, event.phase);
        return;
      }
      let r = renderers.get(template);
      if (!r) {
        process.stderr.write(`building template ${template} (first run only; cached afterwards)\n`);
        r = renderProgress(process.stderr);
        renderers.set(template, r);
      }
      r(event);
    },
  });
  for (const [name, r] of renderers) r.end(`template ${name} ready`);

  log(`listening on ${hostd.url}`);
  console.log(`podflare hostd listening on ${hostd.url}`);
  if (process.stdout.isTTY) console.log(`  try: PODFLARE_HOSTD_URL=${hostd.url} npx podflare exec $(curl -s -XPOST ${hostd.url}/v1/sandboxes | sed 's/.*"id":"\\([^"]*\\)".*/\\1/') 'print(6*7)'`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping the API; sandboxes keep running and are re-adopted on the next start`);
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await hostd.close();
  // Exit now rather than when the last keep-alive socket times out.
  process.exit(0);
}
