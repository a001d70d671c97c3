// Turning a Debian tarball into a template root filesystem: extract, shift every owner
// into the sandbox uid range (so root inside the user namespace owns the files), and add
// the few files and mount points the runtime expects.

import { chmod, lchown, lstat, mkdir, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./host-command.js";
import { fasterLoginProfile } from "./login-profile.js";

export const UID_RANGE = 65536;

export interface ShiftResult {
  entries: number;
  /** Disk bytes used by the tree, each inode counted once. */
  sizeBytes: number;
  /** Device nodes removed (the jail provides /dev). */
  devicesRemoved: number;
}

/** Extract with numeric owners and modes kept; returns the number of entries. */
export async function extractTarball(tarball: string, dest: string, onEntry?: (n: number) => void): Promise<number> {
  let n = 0;
  await run("tar", ["--numeric-owner", "--same-owner", "-xvpf", tarball, "-C", dest], {
    keepBytes: 64 * 1024,
    onLine: (line, stream) => {
      if (stream === "stdout" && line) onEntry?.(++n);
    },
  });
  return n;
}

function shiftId(id: number, base: number): number {
  if (id >= base && id < base + UID_RANGE) return id; // already shifted
  return id < UID_RANGE ? base + id : base + 65534; // outside the range: nobody
}

/**
 * lchown every entry from id to uidBase + id. lchown clears setuid/setgid, so the mode is
 * put back afterwards (never on symlinks, whose mode is meaningless and chmod would follow).
 */
export async function shiftOwnership(
  root: string,
  uidBase: number,
  onEntry?: (n: number) => void,
): Promise<ShiftResult> {
  const seen = new Set<string>();
  const result: ShiftResult = { entries: 0, sizeBytes: 0, devicesRemoved: 0 };

  const visit = async (path: string): Promise<boolean> => {
    const st = await lstat(path);
    result.entries++;
    if (result.entries % 256 === 0) onEntry?.(result.entries);
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      await unlink(path);
      result.devicesRemoved++;
      return false;
    }
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return false;
      seen.add(key);
    }
    result.sizeBytes += st.blocks * 512;
    const uid = shiftId(st.uid, uidBase);
    const gid = shiftId(st.gid, uidBase);
    if (uid !== st.uid || gid !== st.gid) {
      await lchown(path, uid, gid);
      if (!st.isSymbolicLink() && st.mode & 0o6000) await chmod(path, st.mode & 0o7777);
    }
    return st.isDirectory();
  };

  // A directory's names are read in one call, then visited 64 at a time: nothing stays open
  // between batches. (A CI run once stalled for good inside this walk while it iterated an open
  // fs.Dir; the cause was not found, so the walk no longer uses one.)
  const walkDir = async (dir: string): Promise<void> => {
    const names = await readdir(dir);
    const subdirs: string[] = [];
    for (let i = 0; i < names.length; i += 64) {
      const paths = names.slice(i, i + 64).map((name) => join(dir, name));
      const isDir = await Promise.all(paths.map(visit));
      paths.forEach((p, j) => isDir[j] && subdirs.push(p));
    }
    for (const sub of subdirs) await walkDir(sub);
  };

  await visit(root);
  await walkDir(root);
  onEntry?.(result.entries);
  return result;
}

/** Mount points and files every sandbox root needs, owned by the mapped root. */
export async function finishRootfs(root: string, uidBase: number): Promise<void> {
  const own = (p: string) => lchown(p, uidBase, uidBase);
  const dir = async (rel: string, mode: number) => {
    const p = join(root, rel);
    const st = await lstat(p).catch(() => null);
    if (st && !st.isDirectory()) await rm(p, { force: true });
    if (!st || !st.isDirectory()) {
      await mkdir(p, { mode });
      await own(p);
    }
    await chmod(p, mode);
  };
  const file = async (rel: string, content: string) => {
    const p = join(root, rel);
    await rm(p, { force: true }); // never write through a symlink
    await writeFile(p, content, { mode: 0o644, flag: "wx" });
    await own(p);
  };
  await dir(".podflare", 0o755); // the guest kernel files are mounted here read-only
  await dir("root", 0o700);
  await dir("home", 0o755);
  await dir("home/user", 0o755); // the E2B surface's home (e2b/home.ts)
  await dir("tmp", 0o1777);
  await dir("dev", 0o755);
  await file("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  await file("etc/resolv.conf", ""); // the network layer puts the real one in place
  await file("etc/hostname", "sandbox\n"); // mmdebstrap copies the build host's name
  // Read only as a plain file: never through a link out of the root.
  const profilePath = join(root, "etc/profile");
  if ((await lstat(profilePath).catch(() => null))?.isFile()) {
    const profile = fasterLoginProfile(await readFile(profilePath, "utf8"));
    if (profile !== null) await file("etc/profile", profile);
  }
}
