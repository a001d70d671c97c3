// runExec against the real guest kernel (packages/guest, started by the host's python3 on a
// Unix socket of its own): outputs, exit codes, and no listener left behind per exec.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runExec } from "./exec.js";
import { GuestConnection } from "./guest-connection.js";
import type { RuntimeSandbox } from "./types.js";

// Compiled into packages/hostd/dist/runtime/: packages/guest is three levels up.
const guestDir = fileURLToPath(new URL("../../../guest", import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-exec-"));
const sock = path.join(dir, "k.sock");
let kernel: ChildProcess;
let conn: GuestConnection;

const sandbox = (): RuntimeSandbox =>
  ({
    id: "sbx_test",
    handle: { initPid: 0, initStartTime: "0" },
    control: async () => conn,
    openConnection: () => GuestConnection.connect(sock, 5000),
    killKernel: () => kernel.kill("SIGKILL"),
    oomKills: () => 0,
    closed: false,
  }) as unknown as RuntimeSandbox;

before(async () => {
  const boot = `import sys; sys.path.insert(0, ${JSON.stringify(guestDir)}); from podflare_guest.main import main; del sys.path[0]; main()`;
  kernel = spawn("/usr/bin/python3", ["-c", boot, "--listen", sock], { cwd: dir, stdio: "ignore" });
  for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  conn = await GuestConnection.connect(sock, 10_000);
});

after(() => {
  conn?.close();
  kernel?.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

const opts = { language: "python" as const, timeoutMs: 10_000, killGraceMs: 1000, memoryMb: 1024 };

test("output lines and the exit code come through", async () => {
  const lines: string[] = [];
  const code = await runExec(sandbox(), { ...opts, code: "print('a'); print('b'); raise SystemExit(3)" }, (_s, l) => lines.push(l));
  assert.equal(code, 3);
  assert.deepEqual(lines, ["a\n", "b\n"]);
});

test("execs on the long-lived control connection leave no close listener behind", async () => {
  const before = conn.closeListenerCount;
  for (let i = 0; i < 50; i++) await runExec(sandbox(), { ...opts, code: "pass" }, () => {});
  assert.equal(conn.closeListenerCount, before);
});

async function run(code: string, language: "python" | "bash" = "python"): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const exit = await runExec(sandbox(), { ...opts, language, code }, (s, l) => {
    if (s === "stdout") stdout += l;
    else stderr += l;
  });
  return { code: exit, stdout, stderr };
}

test("an exec that closes its stdout and stderr does not spill into the next exec's output", async () => {
  await run("import os, sys\nprint('first', flush=True)\nos.close(1)\nos.close(2)\nprint('after close')\nsys.stderr.write('err after close\\n')");
  const second = await run("print('second')");
  assert.equal(second.stdout, "second\n");
  assert.equal(second.stderr, "");
  const third = await run("print('third')");
  assert.equal(third.stdout, "third\n");
});

test("output that is not UTF-8 follows the documented rule: each invalid sequence becomes U+FFFD", async () => {
  // docs/api.md, "Output that is not UTF-8". A character split across writes stays whole.
  const r = await run("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n'); sys.stdout.buffer.flush()\nsys.stdout.buffer.write('é'.encode()[:1]); sys.stdout.buffer.flush()\nsys.stdout.buffer.write('é'.encode()[1:] + b'\\n')");
  assert.equal(r.stdout, "ok \ufffd\ufffd end\né\n");
});

// Last: it breaks the shared control connection on purpose.
test("a frame over the size cap from the guest cuts the connection with a clear error", async () => {
  const r = await run(
    [
      "import gc",
      "from podflare_guest.conn import Connection",
      "for c in [o for o in gc.get_objects() if isinstance(o, Connection)]:",
      "    with c._send_lock:",
      "        c.sock.sendall((0xFFFFFFF0).to_bytes(4, 'big'))",
      "import time; time.sleep(1)",
    ].join("\n"),
  );
  assert.equal(r.code, 137);
  assert.match(r.stderr, /malformed frame \(bad frame length 4294967280\)/);
});
