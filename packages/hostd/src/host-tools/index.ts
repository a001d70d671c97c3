// The one way hostd starts a host tool (ip, nft, btrfs, mount, mmdebstrap, flock, the jail's
// Python): never through a shell, and with a minimal environment built here, never hostd's own,
// so secrets (PODFLARE_API_KEYS, PODFLARE_ADMIN_KEY, ...) never reach a tool (DESIGN §11).
import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams, type SpawnOptions, type SpawnSyncOptions, type SpawnSyncReturns } from "node:child_process";

const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];
const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

const PROXIES = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];

/** Variables a tool may get from hostd's environment when set: only the downloaders' proxies. */
const PASS_THROUGH: Record<string, readonly string[]> = {
  mmdebstrap: PROXIES,
  // It runs mmdebstrap (storage/mmdebstrap.ts), which inherits its environment.
  setpriv: PROXIES,
  "apt-get": PROXIES,
};

/** PATH with the sbin directories added: hostd may be started by a service manager with a short PATH. */
export function toolPath(): string {
  const dirs = (process.env.PATH || BASE_PATH).split(":").filter((d) => d.startsWith("/"));
  return [...dirs, ...SBIN.filter((d) => !dirs.includes(d))].join(":");
}

/**
 * The whole environment `cmd` runs with: PATH, LANG=C.UTF-8, the pass-through variables of that
 * tool (when hostd has them) and `extra` (what the caller sets on purpose, e.g. LC_ALL=C).
 */
export function toolEnv(cmd: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: toolPath(), LANG: "C.UTF-8" };
  for (const name of PASS_THROUGH[cmd.split("/").pop()!] ?? []) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...extra };
}

export type ToolSpawnOptions = Omit<SpawnOptions, "env" | "shell"> & { env?: Record<string, string> };
export type ToolSpawnSyncOptions = Omit<SpawnSyncOptions, "env" | "shell"> & { env?: Record<string, string> };

export function spawnTool(cmd: string, args: readonly string[], opts: ToolSpawnOptions = {}): ChildProcess {
  return spawn(cmd, args, { ...opts, shell: false, env: toolEnv(cmd, opts.env) });
}

/** spawnTool with stdin, stdout and stderr all pipes. */
export function spawnToolPiped(cmd: string, args: readonly string[], opts: Omit<ToolSpawnOptions, "stdio"> = {}): ChildProcessWithoutNullStreams {
  return spawnTool(cmd, args, { ...opts, stdio: ["pipe", "pipe", "pipe"] }) as ChildProcessWithoutNullStreams;
}

export function spawnToolSync(cmd: string, args: readonly string[], opts: ToolSpawnSyncOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", ...opts, shell: false, env: toolEnv(cmd, opts.env) }) as SpawnSyncReturns<string>;
}
