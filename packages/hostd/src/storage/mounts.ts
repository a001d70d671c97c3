// Reading the mount table and the loop devices behind a file.

import { readFile } from "node:fs/promises";
import { run } from "./host-command.js";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  /** The path inside the filesystem that is mounted (`/` for a whole filesystem). */
  root: string;
  /** The filesystem's own options (btrfs: `discard=async`, `space_cache=v2`, …). */
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [left, right] = line.split(" - ");
    const f = (left ?? "").split(" ");
    const g = (right ?? "").split(" ");
    if (f.length < 5 || g.length < 2) continue;
    entries.push({ root: unescape(f[3]!), mountPoint: unescape(f[4]!), fsType: g[0]!, source: unescape(g[1]!), superOptions: g[2] ?? "" });
  }
  return entries;
}

/** The topmost mount at exactly `path`, if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  return (await readMounts()).filter((m) => m.mountPoint === path).pop();
}

/** Loop devices currently backed by `file` (`losetup -j`). */
export async function loopDevicesFor(file: string): Promise<string[]> {
  const r = await run("losetup", ["-j", file], { allowFail: true });
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .map((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1])
    .filter((d): d is string => Boolean(d));
}

export async function fsTypeOf(path: string): Promise<string> {
  const r = await run("stat", ["-f", "-c", "%T", path]);
  return r.stdout.trim();
}
