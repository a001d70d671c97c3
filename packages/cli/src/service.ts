// `podflare serve --install-service`: hostd as a systemd service. The unit is
// deploy/systemd/podflare-hostd.service with its @…@ names filled in; settings go to an
// environment file (0600: it may hold PODFLARE_ADMIN_KEY) kept if it already exists.
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const UNIT_NAME = "podflare-hostd.service";

export interface UnitPaths {
  /** The node binary that runs hostd. */
  node: string;
  /** packages/cli/dist/main.js of this checkout. */
  cli: string;
  /** The repository (working directory, docs). */
  root: string;
  envFile: string;
}

/** This checkout's paths, run by the node that runs this command. */
export function defaultUnitPaths(envFile = "/etc/podflare/hostd.env"): UnitPaths {
  const dist = path.dirname(fileURLToPath(import.meta.url));
  return { node: process.execPath, cli: path.join(dist, "main.js"), root: path.resolve(dist, "../../.."), envFile };
}

export function unitTemplatePath(root: string): string {
  return path.join(root, "deploy/systemd", UNIT_NAME);
}

// systemd splits ExecStart at spaces and expands % and $: paths that need quoting are refused.
const PLAIN_PATH = /^\/[A-Za-z0-9._/+-]*$/;

export function renderUnit(template: string, paths: UnitPaths): string {
  for (const [name, value] of Object.entries(paths)) {
    if (!PLAIN_PATH.test(value)) {
      throw new Error(`${name} path ${JSON.stringify(value)} has characters a systemd unit would split or expand; move it to a plain absolute path`);
    }
  }
  const text = template
    .replaceAll("@NODE@", paths.node)
    .replaceAll("@CLI@", paths.cli)
    .replaceAll("@ROOT@", paths.root)
    .replaceAll("@ENV_FILE@", paths.envFile);
  const left = /@[A-Z_]+@/.exec(text);
  if (left) throw new Error(`the unit template has an unknown name ${left[0]}`);
  return text;
}

/** The PODFLARE_* settings of this environment as an environment file (one KEY=value a line). */
export function renderEnvFile(env: NodeJS.ProcessEnv): string {
  const lines = ["# PODFLARE_* settings of hostd (docs/operations.md). Written by `podflare serve --install-service`."];
  for (const key of Object.keys(env).sort()) {
    const value = env[key];
    if (!key.startsWith("PODFLARE_") || value === undefined) continue;
    if (key === "PODFLARE_API_KEY" || key === "PODFLARE_HOSTD_URL") continue; // client settings
    if (/[\n"\\]/.test(value)) throw new Error(`${key} holds a newline, a quote or a backslash; set it in the environment file by hand`);
    lines.push(`${key}="${value}"`);
  }
  return lines.join("\n") + "\n";
}

export interface InstallOptions {
  paths: UnitPaths;
  unitDir: string;
  env: NodeJS.ProcessEnv;
  /** Runs systemctl (a recorder in unit tests); returns its exit status and stderr. */
  systemctl: (args: string[]) => { status: number | null; stderr: string };
  /** Whether systemd runs this machine (/run/systemd/system exists). */
  systemdRunning: boolean;
  log: (msg: string) => void;
}

/** Writes the unit and (if missing) the environment file, then daemon-reload and enable --now. */
export function installService(opts: InstallOptions): number {
  const template = fs.readFileSync(unitTemplatePath(opts.paths.root), "utf8");
  const unit = renderUnit(template, opts.paths);
  const unitPath = path.join(opts.unitDir, UNIT_NAME);
  fs.mkdirSync(opts.unitDir, { recursive: true });
  fs.writeFileSync(unitPath, unit, { mode: 0o644 });
  opts.log(`wrote ${unitPath}`);
  if (fs.existsSync(opts.paths.envFile)) {
    opts.log(`kept ${opts.paths.envFile} as it is`);
  } else {
    fs.mkdirSync(path.dirname(opts.paths.envFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(opts.paths.envFile, renderEnvFile(opts.env), { mode: 0o600 });
    opts.log(`wrote ${opts.paths.envFile} with this shell's PODFLARE_* settings`);
  }
  if (!opts.systemdRunning) {
    opts.log(`systemd is not running on this machine: nothing was enabled. Run hostd with \`podflare serve\`, or on a systemd host: systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`);
    return 1;
  }
  for (const args of [["daemon-reload"], ["enable", "--now", UNIT_NAME]]) {
    const r = opts.systemctl(args);
    if (r.status !== 0) {
      opts.log(`systemctl ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
      return 1;
    }
  }
  opts.log(`${UNIT_NAME} is enabled and started; its log: podflare logs -f (or journalctl -u ${UNIT_NAME} -f)`);
  return 0;
}

export function installServiceCommand(opts: { envFile?: string; unitDir?: string }): number {
  return installService({
    paths: defaultUnitPaths(path.resolve(opts.envFile ?? "/etc/podflare/hostd.env")),
    unitDir: path.resolve(opts.unitDir ?? "/etc/systemd/system"),
    env: process.env,
    systemctl: (a) => {
      const r = spawnSync("systemctl", a, { encoding: "utf8" });
      return { status: r.status, stderr: r.stderr ?? String(r.error ?? "") };
    },
    systemdRunning: fs.existsSync("/run/systemd/system"),
    log: (msg) => console.log(msg),
  });
}
