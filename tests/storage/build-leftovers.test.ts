// What a template build leaves when its hostd dies mid-build (outside tester tl): mmdebstrap's
// chroot with proc, sysfs, devpts and a tmpfs mounted on the host. Builds now run in
// `<cache>/mmdebstrap-tmp/<hostd pid>-<template>`, and a dead hostd's directories are unmounted
// and removed before the next build and at every start; a live build's are never touched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepBuildLeftovers } from "./storage.js";
import { requireRoot } from "./helpers.js";

const mountedUnder = (dir: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(`${dir}/`));

test("a dead build's chroot is unmounted and removed; a build under way is left alone", async () => {
  requireRoot();
  const root = mkdtempSync(join(tmpdir(), "pf-build-leftovers-"));
  // A pid no process can have (above any pid_max): its hostd is gone.
  const dead = join(root, "2147483000-default");
  const live = join(root, `${process.pid}-python-datasci`);
  try {
    for (const m of ["chroot/proc", "chroot/dev/shm"]) {
      mkdirSync(join(dead, m), { recursive: true });
      assert.equal(spawnSync("mount", ["-t", "tmpfs", "tmpfs", join(dead, m)]).status, 0);
      writeFileSync(join(dead, m, "x"), "x");
    }
    mkdirSync(join(live, "chroot"), { recursive: true });
    writeFileSync(join(live, "chroot", "keep"), "building");
    const logged: string[] = [];
    await sweepBuildLeftovers(root, (m) => logged.push(m));
    assert.deepEqual(mountedUnder(dead), [], "a mount of the dead build is still there");
    assert.equal(existsSync(dead), false, "the dead build's directory is still there");
    assert.equal(readFileSync(join(live, "chroot", "keep"), "utf8"), "building", "a live build's directory was touched");
    assert.ok(logged.some((m) => m.includes(dead)), logged.join("\n"));
  } finally {
    for (const m of mountedUnder(root).sort((a, b) => b.length - a.length)) spawnSync("umount", ["--lazy", m]);
    rmSync(root, { recursive: true, force: true });
  }
});
