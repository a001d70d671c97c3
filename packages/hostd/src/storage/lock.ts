// An exclusive lock shared by processes and by calls within one process. The kernel's
// flock does the work: a small `flock FILE cat` child holds it for us, and it is released
// when we close the child's stdin or when hostd dies (the pipe closes), so a crash never
// leaves a stale lock behind.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { spawnToolPiped } from "../host-tools/index.js";

export interface LockOptions {
  /** Called once if the lock is still held by someone else after a moment. */
  onWait?: () => void;
}

/** Take the lock at `path`; the returned function releases it. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const child = spawnToolPiped("flock", ["--exclusive", path, "cat"]);
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let held = false;
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    const waitTimer = setTimeout(() => opts.onWait?.(), 300);
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    // cat echoes our token only once flock has the lock and started it.
    child.stdout.once("data", () => {
      clearTimeout(waitTimer);
      held = true;
      resolve();
    });
    child.once("error", (err) => {
      clearTimeout(waitTimer);
      reject(new Error(`cannot run flock (util-linux) for ${path}: ${err.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(waitTimer);
      if (!held) reject(new Error(`flock ${path} exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin.write("locked\n");
  });
  return async () => {
    child.stdin.end();
    await exited;
  };
}

export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
