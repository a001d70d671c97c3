// One process owns a state dir (DESIGN §11): hostd takes an exclusive flock on the state dir
// itself before it touches anything else, and holds it for its whole life; <state dir>/hostd.lock
// names the holder. The lock lives on a descriptor of hostd's own, so the kernel drops it the
// moment hostd dies, however it dies, and a restart right after a kill -9 finds it free. It is
// the directory that is locked, not hostd.lock: deleting that file (it looks like a stale lock)
// let a second hostd and `podflare down --force` through, which tore down the first's sandboxes.
import fs from "node:fs";
import path from "node:path";
import { spawnToolSync } from "./host-tools/index.js";

/** What the holder writes into the lock file, for the one refused to read. */
export interface StateDirOwner {
  pid: number;
  /** What holds it: "hostd" (serve) or a CLI command such as "down". */
  what: string;
  /** host:port the hostd listens on (hostd only). */
  addr?: string;
  /** Whether that hostd refuses to revoke its last stored key (auth/last-key.ts). */
  keepLastKey?: boolean;
}

export class StateDirBusyError extends Error {
  constructor(readonly stateDir: string, readonly owner: StateDirOwner | null) {
    const who = owner ? `${owner.what} (pid ${owner.pid}${owner.addr ? `, listening on ${owner.addr}` : ""})` : "another process (pid not written yet)";
    super(`the state dir ${stateDir} is in use by ${who}: stop it first, or give this one its own PODFLARE_STATE_DIR`);
    this.name = "StateDirBusyError";
  }
}

const CONFLICT_EXIT = 75;

export function lockFileOf(stateDir: string): string {
  return path.join(stateDir, "hostd.lock");
}

function readOwner(file: string): StateDirOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as StateDirOwner;
    return typeof o.pid === "number" ? o : null;
  } catch {
    return null;
  }
}

/** Takes the state dir for this process, or throws StateDirBusyError naming the holder. */
export function lockStateDir(stateDir: string, info: Omit<StateDirOwner, "pid">): { release(): void } {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = lockFileOf(stateDir);
  // Node opens with O_CLOEXEC: no child of hostd (the jail, sandboxes) inherits the descriptors.
  const dirFd = fs.openSync(stateDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const held = [dirFd];
  const release = (): void => {
    for (const fd of held.splice(0)) fs.closeSync(fd);
  };
  try {
    exclusive(dirFd, stateDir, file);
    // The file too, which a hostd from before the directory lock holds (an upgrade under way).
    const fileFd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    held.push(fileFd);
    exclusive(fileFd, stateDir, file);
    fs.ftruncateSync(fileFd);
    fs.writeSync(fileFd, JSON.stringify({ pid: process.pid, ...info }) + "\n", 0);
  } catch (err) {
    release();
    throw err;
  }
  return { release };
}

function exclusive(fd: number, stateDir: string, file: string): void {
  // flock(1) locks the open file description it inherits as fd 3, which is this process's `fd`.
  const r = spawnToolSync("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(CONFLICT_EXIT), "3"], { stdio: ["ignore", "pipe", "pipe", fd] });
  if (r.status === 0) return;
  if (r.status === CONFLICT_EXIT) throw new StateDirBusyError(stateDir, readOwner(file));
  throw new Error(`cannot lock ${stateDir} with flock (util-linux): ${r.error?.message ?? `exit ${r.status}: ${r.stderr}`}`);
}

/** The live holder of the state dir, or null when nobody holds it (a shared try-lock, released at once). */
export function stateDirOwner(stateDir: string): StateDirOwner | null {
  const file = lockFileOf(stateDir);
  for (const target of [stateDir, file]) {
    if (!fs.existsSync(target)) continue;
    const r = spawnToolSync("flock", ["--shared", "--nonblock", "--conflict-exit-code", String(CONFLICT_EXIT), target, "true"]);
    if (r.status === 0) continue;
    if (r.status !== CONFLICT_EXIT) throw new Error(`flock ${target} failed (exit ${r.status}): ${r.stderr || r.error?.message}`);
    return readOwner(file) ?? { pid: 0, what: "another process" };
  }
  return null;
}
