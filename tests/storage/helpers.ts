// Shared set-up for the storage tests: a throw-away state dir under /tmp and a cleanup
// that unmounts and detaches whatever the test left, even after a failure.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { StoragePool } from "./storage.js";

/** Fail (never skip) without root: these tests need loop devices, mounts and btrfs. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("storage tests need root (loop devices, mount, btrfs subvolumes): run them as root");
  }
}

/** A fresh state dir naming this process in owner.pid, so run-tests can sweep it if we are killed. */
export function makeStateDir(): string {
  const dir = mkdtempSync("/tmp/podflare-test-storage-");
  writeFileSync(join(dir, "owner.pid"), `${process.pid}\n`);
  return dir;
}

export function newSandboxId(): string {
  return `sbx_${randomBytes(16).toString("hex")}`;
}

function mountedAt(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === path);
}

export function loopDevices(image: string): string[] {
  const r = spawnSync("losetup", ["-j", image], { encoding: "utf8" });
  return (r.stdout ?? "")
    .split("\n")
    .map((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1])
    .filter((d): d is string => Boolean(d));
}

/** Unmount, detach and remove a test state dir, whatever state it is in. */
export function cleanupStateDir(stateDir: string): void {
  if (!stateDir.startsWith("/tmp/podflare-test-storage-")) throw new Error(`refusing to clean ${stateDir}`);
  const mnt = join(stateDir, "pool");
  for (let i = 0; i < 5 && mountedAt(mnt); i++) {
    const r = spawnSync("umount", [mnt]);
    if (r.status !== 0) spawnSync("umount", ["--lazy", mnt]);
  }
  for (const loop of loopDevices(join(stateDir, "pool.img"))) spawnSync("losetup", ["-d", loop]);
  if (mountedAt(mnt)) throw new Error(`${mnt} is still mounted; not removing ${stateDir}`);
  rmSync(stateDir, { recursive: true, force: true });
}

/** A tiny template made through the pool's own staging and commit. */
export async function makeFakeTemplate(pool: StoragePool, name: string): Promise<void> {
  const staging = await pool.beginTemplate(name);
  mkdirSync(join(staging, "etc"));
  writeFileSync(join(staging, "etc", "hello"), "from the template\n");
  mkdirSync(join(staging, "usr", "bin"), { recursive: true });
  writeFileSync(join(staging, "usr", "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
  await pool.commitTemplate(name, staging, JSON.stringify({ name, fake: true }) + "\n");
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}
