// Directories of jail servers (jail-server.ts) that died without removing their own: a server
// removes its directory when hostd goes (end of file on its stdin) or on SIGTERM, but not when
// it is killed outright with hostd (SIGKILL to their group). One is stale when nothing listens
// on its socket (the kernel's list of unix sockets, /proc/net/unix: no connection is made to a
// live server) and it is older than any server takes to start listening, so a starting one is
// not touched.
import fs from "node:fs";
import path from "node:path";

export const JAIL_DIR_PREFIX = "podflare-jail-";

/** Removes stale jail server directories under `tmpDir`; returns the paths removed. */
export function removeStaleJailDirs(tmpDir: string, olderThanMs: number, nowMs = Date.now()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tmpDir).filter((n) => n.startsWith(JAIL_DIR_PREFIX));
  } catch {
    return [];
  }
  if (!names.length) return [];
  const live = listeningUnixPaths();
  const removed: string[] = [];
  for (const name of names) {
    const dir = path.join(tmpDir, name);
    try {
      const st = fs.lstatSync(dir);
      // Only a plain directory of root's: /tmp is everyone's, and a link there is not ours to follow.
      if (!st.isDirectory() || st.uid !== 0 || nowMs - st.mtimeMs < olderThanMs) continue;
      if (live.has(path.join(dir, "jail.sock"))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      /* gone meanwhile, or not ours to remove */
    }
  }
  return removed;
}

// A listening socket's flags in /proc/net/unix (__SO_ACCEPTCON).
const ACCEPTS_CONNECTIONS = 0x10000;

/** Paths of the unix sockets listening now (this network namespace's: hostd's and its jail servers'). */
export function listeningUnixPaths(procNetUnix = "/proc/net/unix"): Set<string> {
  const paths = new Set<string>();
  for (const line of fs.readFileSync(procNetUnix, "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && (parseInt(f[3]!, 16) & ACCEPTS_CONNECTIONS) !== 0) paths.add(f.slice(7).join(" "));
  }
  return paths;
}
