// Attacks on the sandbox's view of the host: processes, users, files, mounts, the chroot
// escape, other sandboxes, and rootfs symlinks planted to redirect the jail's own mounts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { JailFixture, UID_BASE, lines, newId, type TestSandbox } from "./helpers.js";
import { JailError } from "./jail.js";

describe("jail isolation", () => {
  let fx: JailFixture;
  let sb: TestSandbox;

  before(async () => {
    fx = new JailFixture();
    sb = await fx.launch();
  });

  after(async () => {
    await fx?.cleanup();
  });

  test("the sandbox sees only its own processes", async () => {
    // The pid namespace is the fork family's; its init (pid 1) and the sandbox init are
    // non-dumpable, so /proc (hidepid=invisible) does not show them at all.
    const r = await fx.run(sb, ["/bin/ps", "-e", "-o", "pid=,comm="]);
    assert.equal(r.code, 0, r.stderr);
    const procs = lines(r.stdout).map((l) => l.split(/\s+/));
    assert.deepEqual(procs.map((p) => p[1]).sort(), ["ps"]);
    const ls = await fx.sh(sb, "cat /proc/[0-9]*/comm | sort -u | tr '\\n' ' '");
    assert.equal(ls.code, 0, ls.stderr);
    for (const comm of ls.stdout.trim().split(" ")) {
      assert.ok(["bash", "sh", "cat", "sort", "tr"].includes(comm), `${comm} shows in /proc`);
    }
  });

  test("hostname is the sandbox id and only loopback exists", async () => {
    const r = await fx.sh(sb, "hostname; tail -n +3 /proc/net/dev | cut -d: -f1");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), [sb.id, "lo"]);
  });

  test("root inside is uid 100000 on the host, with no supplementary host groups", async () => {
    const r = await fx.sh(sb, "id -u; id -g; id -G");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ["0", "0", "0"]);
    const { pid } = await fx.start(sb, ["/bin/sleep", "300"]);
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/);
      const gids = /^Gid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/);
      const groups = /^Groups:[ \t]*(.*)$/m.exec(status)?.[1]?.trim();
      assert.deepEqual(uids, Array(4).fill(String(UID_BASE)));
      assert.deepEqual(gids, Array(4).fill(String(UID_BASE)));
      assert.equal(groups, "");
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  test("host files are not visible", async () => {
    const name = `podflare-jail-marker-${randomBytes(6).toString("hex")}`;
    const markers = [path.join("/tmp", name), path.join("/root", name)];
    for (const m of markers) fs.writeFileSync(m, "host secret\n");
    try {
      const script = markers.map((m) => `test -e ${m} && echo visible:${m}`).join("; ") + "; ls /tmp /root; true";
      const r = await fx.sh(sb, script);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /visible:|podflare-jail-marker/);
    } finally {
      for (const m of markers) fs.rmSync(m, { force: true });
    }
  });

  test("/proc/1/root and the mount table show only the sandbox", async () => {
    const r = await fx.sh(
      sb,
      "readlink /proc/1/root; echo rc=$?; readlink /proc/$$/root; ls -a /proc/$$/root/ | tr '\\n' ' '; echo; ls -a / | tr '\\n' ' '; echo; cat /proc/self/mountinfo",
    );
    assert.equal(r.code, 0, r.stderr);
    const [initRoot, own, viaProc, direct, ...mountinfo] = r.stdout.split("\n");
    // init is not dumpable: its root link is not even readable from inside.
    assert.equal(initRoot, "rc=1");
    assert.equal(own, "/");
    assert.equal(viaProc, direct);
    const mountPoints = mountinfo.filter((l) => l.trim()).map((l) => l.split(" ")[4] ?? "");
    assert.equal(mountPoints.filter((m) => m === "/").length, 1, "exactly one root mount");
    // /etc/hosts: the sandbox's own read-only hosts file (its hostname), bound by the jail.
    const allowed = /^\/(proc|sys|dev|\.podflare\/guest)?(\/|$)|^\/etc\/hosts$/;
    for (const mp of mountPoints) assert.match(mp, allowed, `unexpected mount point ${mp}`);
    assert.ok(!mountPoints.some((m) => m.startsWith(fx.work)), mountPoints.join(" "));
  });

  test("the chroot escape stays inside", async () => {
    const escape = [
      "import os",
      "os.makedirs('/tmp/x', exist_ok=True)",
      "os.chroot('/tmp/x')",
      "for _ in range(50): os.chdir('..')",
      "os.chroot('.')",
      "print(' '.join(sorted(os.listdir('/'))))",
    ].join("\n");
    const r = await fx.run(sb, ["/usr/bin/python3", "-c", escape]);
    assert.equal(r.code, 0, r.stderr);
    const inside = await fx.sh(sb, "python3 -c \"import os; print(' '.join(sorted(os.listdir('/'))))\"");
    assert.equal(r.stdout, inside.stdout, "escape listed something other than the sandbox's /");
    const hostTop = fs.readdirSync("/").sort().join(" ");
    assert.notEqual(r.stdout.trim(), hostTop);
  });

  test("the inits' command lines, environments, exes and host paths are hidden", async () => {
    const r = await fx.sh(sb, "cat /proc/1/cmdline; echo rc=$?; cat /proc/1/environ; echo rc=$?; readlink /proc/1/exe; echo rc=$?");
    assert.doesNotMatch(r.stdout, /launch\.py|PATH=|podflare/);
    assert.deepEqual(lines(r.stdout).filter((l) => l.startsWith("rc=")), ["rc=1", "rc=1", "rc=1"]);
    // Known by their host pids: the family init (pid 1 inside) and the sandbox init hold
    // nothing from the launcher in their argv.
    for (const pid of [sb.familyPid, sb.initPid]) {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      assert.match(cmdline, /^podflare-(family|init)$/);
    }
  });

  test("/dev holds only the safe devices and the guest dir is read-only", async () => {
    const r = await fx.sh(sb, "ls -A /dev | sort | tr '\\n' ' '; echo; cat /.podflare/guest/hello.txt; touch /.podflare/guest/x 2>&1; echo rc=$?; head -c 4 /dev/zero | od -An -tx1");
    assert.deepEqual(
      lines(r.stdout)[0]?.split(" "),
      ["fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"],
    );
    assert.match(r.stdout, /hello from the host/);
    assert.match(r.stdout, /Read-only file system\s*\nrc=1/);
    assert.match(r.stdout, /00 00 00 00/);
    assert.ok(!fs.existsSync(path.join(fx.guestDir, "x")));
  });

  test("a write to /usr in one sandbox is invisible in another", async () => {
    const rootA = fx.overlayCopy("copy-a");
    const rootB = fx.overlayCopy("copy-b");
    const a = await fx.launch({ rootfs: rootA });
    const b = await fx.launch({ rootfs: rootB });
    // Both a new file and an in-place change of an existing one.
    const w = await fx.sh(a, "echo mine > /usr/podflare-marker && echo changed >> /usr/bin/zcmp && (sleep 300 >/dev/null 2>&1 &)");
    assert.equal(w.code, 0, w.stderr);
    const r = await fx.sh(b, "test -e /usr/podflare-marker && echo visible; tail -n 1 /usr/bin/zcmp; ps -e -o comm= | sort | tr '\\n' ' '");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /visible|changed/);
    assert.doesNotMatch(r.stdout, /sleep/, "the other sandbox's processes are visible");
    assert.ok(fs.existsSync(path.join(rootA, "usr/podflare-marker")));
    assert.ok(!fs.existsSync(path.join(rootB, "usr/podflare-marker")));
    assert.ok(!fs.existsSync(path.join(fx.rootfs, "usr/podflare-marker")));
    await fx.destroy(a.id);
    await fx.destroy(b.id);
  });

  describe("planted symlinks in the rootfs", () => {
    const plants: Array<[string, string]> = [
      ["proc", "/"],
      ["sys", "/sys"],
      ["dev", "/tmp"],
      [".podflare", "/etc"],
    ];
    for (const [rel, target] of plants) {
      test(`/${rel} -> ${target}: the launch fails closed and the host is untouched`, async () => {
        const p = path.join(fx.rootfs, rel);
        const saved = p + ".saved";
        const hadIt = fs.existsSync(p);
        if (hadIt) fs.renameSync(p, saved);
        fs.symlinkSync(target, p);
        const id = newId();
        try {
          await assert.rejects(fx.launch({ id }), (err: unknown) => {
            assert.ok(err instanceof JailError, String(err));
            assert.match(err.message, /symlink/);
            return true;
          });
          assert.ok(!fs.existsSync("/etc/guest"), "guest dir created on the host's /etc");
          assert.deepEqual(fx.cg.pids(id), [], "a failed launch left processes behind");
        } finally {
          fs.unlinkSync(p);
          if (hadIt) fs.renameSync(saved, p);
          await fx.destroy(id);
        }
      });
    }

    test("/.podflare/guest -> / : refused too", async () => {
      const dir = path.join(fx.rootfs, ".podflare");
      fs.mkdirSync(dir, { recursive: true });
      const guest = path.join(dir, "guest");
      fs.rmSync(guest, { recursive: true, force: true });
      fs.symlinkSync("/", guest);
      const id = newId();
      try {
        await assert.rejects(fx.launch({ id }), /symlink/);
      } finally {
        fs.unlinkSync(guest);
        await fx.destroy(id);
      }
    });

    test("/etc/hosts -> /etc/shadow: no hosts file is bound over it, the host file is untouched", async () => {
      const hosts = path.join(fx.rootfs, "etc/hosts");
      const saved = hosts + ".saved";
      fs.renameSync(hosts, saved);
      fs.symlinkSync("/etc/shadow", hosts);
      const before = fs.readFileSync("/etc/shadow", "utf8");
      const id = newId();
      try {
        const sb = await fx.launch({ id });
        const r = await fx.sh(sb, "grep -c ' /etc/hosts ' /proc/self/mountinfo; readlink /etc/hosts");
        assert.equal(r.stdout, "0\n/etc/shadow\n", "the symlink is left as it is, nothing mounted");
        assert.equal(fs.readFileSync("/etc/shadow", "utf8"), before);
      } finally {
        fs.unlinkSync(hosts);
        fs.renameSync(saved, hosts);
        await fx.destroy(id);
      }
    });
  });
});
