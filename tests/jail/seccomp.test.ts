// Attacks on the seccomp filter and no_new_privs: each blocked call is also made with the
// filter off (seccomp: false, a test-only switch) to show that the filter, not the user
// namespace, is what stops it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { JailFixture, lines, type TestSandbox } from "./helpers.js";

// Python inside the sandbox: call a raw syscall through ctypes and print "ok" or the errno name.
function syscallProbe(expr: string): string {
  return [
    "import ctypes, errno, os",
    "libc = ctypes.CDLL(None, use_errno=True)",
    `r = ${expr}`,
    "print('ok' if r >= 0 else errno.errorcode[ctypes.get_errno()])",
  ].join("\n");
}

const PROBES: Record<string, string> = {
  // KEYCTL_GET_KEYRING_ID of the session keyring, creating it: plain keyring use.
  keyctl: syscallProbe("libc.syscall(250, 0, -3, 1)"),
  // BPF_PROG_LOAD with an empty attr: refused by seccomp before the kernel looks at it.
  bpf: syscallProbe("libc.syscall(321, 5, ctypes.create_string_buffer(128), 128)"),
  mount: syscallProbe("libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)"),
  perf_event_open: syscallProbe("libc.syscall(298, ctypes.create_string_buffer(128), 0, -1, -1, 0)"),
  unshare_user: syscallProbe("libc.unshare(0x10000000)"),
  // clone(CLONE_NEWUSER | SIGCHLD): should it ever succeed, the child exits at once.
  clone_newuser: syscallProbe("libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)\nif r == 0: os._exit(0)"),
  // clone(CLONE_PARENT | SIGCHLD): a sibling, the child of the caller's parent outside the sandbox.
  clone_parent: syscallProbe("libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0)\nif r == 0: os._exit(0)"),
  clone3: syscallProbe("libc.syscall(435, None, 0)"),
  io_uring_setup: syscallProbe("libc.syscall(425, 1, ctypes.create_string_buffer(120))"),
  open_tree: syscallProbe("libc.syscall(428, -100, b'/', 1)"),
};

describe("jail seccomp", () => {
  let fx: JailFixture;
  let sb: TestSandbox;

  before(async () => {
    fx = new JailFixture();
    sb = await fx.launch();
  });

  after(async () => {
    await fx?.cleanup();
  });

  test("no_new_privs is set and a filter is installed", async () => {
    const r = await fx.sh(sb, "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout).map((l) => l.replace(/\s+/g, " ")), ["NoNewPrivs: 1", "Seccomp: 2"]);
  });

  test("unshare -U fails inside", async () => {
    const r = await fx.run(sb, ["/usr/bin/unshare", "-U", "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
    // Other namespaces stay available: only new user namespaces are refused.
    const net = await fx.run(sb, ["/usr/bin/unshare", "-n", "true"]);
    assert.equal(net.code, 0, net.stderr);
  });

  const expected: Record<string, string> = {
    keyctl: "EPERM",
    bpf: "EPERM",
    mount: "EPERM",
    perf_event_open: "EPERM",
    unshare_user: "EPERM",
    clone_newuser: "EPERM",
    clone_parent: "EPERM",
    clone3: "ENOSYS",
    io_uring_setup: "EPERM",
    open_tree: "EPERM",
  };
  for (const [name, probe] of Object.entries(PROBES)) {
    test(`${name} is refused with ${expected[name]}`, async () => {
      const r = await fx.run(sb, ["/usr/bin/python3", "-c", probe]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), expected[name]);
    });
  }

  test("without the filter the same calls get further (the filter is what blocks them)", async () => {
    const results: Record<string, string> = {};
    for (const name of ["keyctl", "mount", "unshare_user"]) {
      const r = await fx.run(sb, ["/usr/bin/python3", "-c", PROBES[name] as string], { seccomp: false });
      assert.equal(r.code, 0, r.stderr);
      results[name] = r.stdout.trim();
    }
    assert.deepEqual(results, { keyctl: "ok", mount: "ok", unshare_user: "ok" });
  });

  test("x32 system calls kill the process", async () => {
    const r = await fx.run(sb, ["/usr/bin/python3", "-c", "import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39); print('survived')"]);
    assert.equal(r.code, 128 + 31, `expected SIGSYS, got ${r.code}`);
    assert.doesNotMatch(r.stdout, /survived/);
  });

  test("fork, threads and subprocesses still work under the filter", async () => {
    const script = [
      "import os, threading, subprocess",
      "t = threading.Thread(target=lambda: None); t.start(); t.join()",
      "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())",
      "pid = os.fork()",
      "os._exit(0) if pid == 0 else print(os.waitpid(pid, 0)[1])",
    ].join("\n");
    const r = await fx.run(sb, ["/usr/bin/python3", "-c", script]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ["child", "0"]);
  });
});
