// Code in the REPL can take over its guest kernel's listening socket (an outside tester:
// os.dup2 of a fresh socket onto it). File calls then found no kernel to talk to and answered
// 500 `internal` ("hostd's bug, report it"); they now say it is the sandbox's guest kernel and
// that restart_repl brings a new one, which it does.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, exec } from "../support/api.js";
import { until } from "../support/host.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("a REPL that took over its kernel's socket: file calls answer runtime_error naming restart_repl, and restart_repl recovers", async () => {
  const id = await pool.create();
  await api("PUT", `/v1/sandboxes/${id}/files?path=/root/f.txt`, "x");
  const listener = (await exec(id, `
import os, socket, stat
fds = [fd for fd in range(3, 1024) if os.path.exists(f"/proc/self/fd/{fd}") and stat.S_ISSOCK(os.fstat(fd).st_mode)
       and socket.socket(fileno=os.dup(fd)).getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
print(fds[0])
`)).stdout.trim();
  assert.match(listener, /^\d+$/, "the kernel's listening socket was not found");
  const took = await exec(id, `_keep = os.dup(${listener}); _s = socket.socket(socket.AF_UNIX); os.dup2(_s.fileno(), ${listener})`);
  assert.equal(took.exitCode, 0, took.stderr);
  const failed = await until(async () => {
    const r = await api("GET", `/v1/sandboxes/${id}/files?path=/root/f.txt`);
    return r.status === 200 ? undefined : { status: r.status, body: (await r.json()) as { code: string; error: string } };
  }, "file calls kept working", 120_000);
  assert.equal(failed.status, 500);
  assert.equal(failed.body.code, "runtime_error", failed.body.error);
  assert.match(failed.body.error, /guest kernel of sandbox .* did not take a connection.*restart_repl/);
  assert.equal((await api("POST", `/v1/sandboxes/${id}/restart_repl`)).status, 204);
  const back = await api("GET", `/v1/sandboxes/${id}/files?path=/root/f.txt`);
  assert.equal(back.status, 200);
  assert.equal(await back.text(), "x");
});
