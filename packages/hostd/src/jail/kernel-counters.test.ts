import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { PTYS_PER_SANDBOX, TENANT_NAMESPACES, familyLimits, hostBudgets, raiseHostBudgets } from "./kernel-counters.js";

test("a family's ceilings: the jail's namespaces per member plus the family's pid namespace and the tenant's share; inotify per member", () => {
  assert.deepEqual(familyLimits(1), { namespaces: 2 + TENANT_NAMESPACES, inotifyInstances: 128, inotifyWatches: 16384, fanotifyGroups: 16, fanotifyMarks: 8192 });
  assert.equal(familyLimits(4).namespaces, 5 + TENANT_NAMESPACES);
  assert.equal(familyLimits(4).inotifyInstances, 512);
  assert.deepEqual(familyLimits(0), familyLimits(1), "a family always holds at least its first member");
});

test("the host budget covers every sandbox as a family of its own (the worst case of the sum of ceilings), and per-uid counters past what the memory ceiling holds", () => {
  const b = hostBudgets(100, 1024);
  assert.equal(b.get("user/max_uts_namespaces"), 100 * familyLimits(1).namespaces);
  assert.equal(b.get("user/max_net_namespaces"), 100 * familyLimits(1).namespaces);
  assert.equal(b.get("fs/inotify/max_user_instances"), 100 * familyLimits(1).inotifyInstances);
  assert.equal(b.get("fs/epoll/max_user_watches"), (1024 * 1024 * 1024) / 128, "an epoll watch costs a sandbox's cgroup ~180 bytes: more than 128");
  assert.equal(b.get("fs/pipe-user-pages-soft"), (1024 * 1024 * 1024) / 32, "a pipe slot costs its 40-byte pipe_buffer: more than 32");
  assert.equal(b.get("fs/file-max"), (1024 * 1024 * 1024) / 128, "an open file costs its struct file: more than 128");
  assert.equal(b.get("kernel/pty/max"), 100 * PTYS_PER_SANDBOX + 1024, "every sandbox's devpts max, and the host's reserve");
  assert.equal(hostBudgets(10_000, 1).get("kernel/pty/max"), 1 << 20, "never past the kernel's own maximum");
});

function procSys(values: Record<string, number>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-procsys-"));
  for (const [file, v] of Object.entries(values)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), `${v}\n`);
  }
  return dir;
}

test("raiseHostBudgets raises what is below the need, never lowers, skips what the kernel lacks, and reports what it could not write", () => {
  const dir = procSys({ "user/max_uts_namespaces": 100, "user/max_net_namespaces": 10_000_000, "fs/inotify/max_user_instances": 128, "fs/pipe-user-pages-soft": 0, "fs/epoll/max_user_watches": 1000 });
  // A read-only sysctl (mode 0444, refused to root too) where a budget should be: the write fails.
  fs.symlinkSync("/proc/sys/kernel/ngroups_max", path.join(dir, "fs/inotify/max_user_watches"));
  const ngroups = Number(fs.readFileSync("/proc/sys/kernel/ngroups_max", "utf8"));
  try {
    const changes = raiseHostBudgets(hostBudgets(10, 1), dir);
    const read = (f: string) => Number(fs.readFileSync(path.join(dir, f), "utf8"));
    assert.equal(read("user/max_uts_namespaces"), 10 * familyLimits(1).namespaces);
    assert.equal(read("user/max_net_namespaces"), 10_000_000, "never lowered");
    assert.equal(read("fs/inotify/max_user_instances"), 1280);
    assert.equal(read("fs/pipe-user-pages-soft"), 0, "0 is no limit: left alone");
    assert.equal(read("fs/epoll/max_user_watches"), 8192);
    assert.deepEqual(changes.map((c) => [c.sysctl, c.from, c.to, c.error !== undefined]), [
      ["user.max_uts_namespaces", 100, 660, false],
      ["fs.inotify.max_user_instances", 128, 1280, false],
      ["fs.inotify.max_user_watches", ngroups, 163840, true],
      ["fs.epoll.max_user_watches", 1000, 8192, false],
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the jail mounts each sandbox's devpts with the max= hostd budgets for", () => {
  const rootfs = fs.readFileSync(new URL("../../jail/rootfs.py", import.meta.url), "utf8");
  assert.match(rootfs, new RegExp(`^PTYS_PER_SANDBOX = ${PTYS_PER_SANDBOX}$`, "m"));
  assert.match(rootfs, /max=\{PTYS_PER_SANDBOX\}/);
});
