// A REPL that exits by itself leaves hostd holding its host pid; the host may give that pid to
// any process since. restart_repl used to SIGKILL it blindly: an outside tester had hostd kill
// another tenant's process this way (and it could be any host process). Here the pid is handed
// to a process of the test's own (host root sets ns_last_pid), and restart_repl must leave it be.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { SandboxPool, api, exec } from "../support/api.js";
import { eventually, sandboxPids } from "../support/host.js";

const pool = new SandboxPool();
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await pool.closeAll();
});

/** The host pid of the process whose innermost pid is `nsPid`, among `pids`. */
function hostPidOf(pids: number[], nsPid: number): number | undefined {
  return pids.find((p) => {
    try {
      const m = /^NSpid:\s+(.+)$/m.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"));
      return Number(m?.[1]?.trim().split(/\s+/).pop()) === nsPid;
    } catch {
      return false;
    }
  });
}

function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A host process of ours that got exactly `pid`, made by setting ns_last_pid just below it. */
async function takePid(pid: number): Promise<ChildProcess> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    fs.writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
    const child = spawn("sleep", ["300"], { stdio: "ignore" });
    children.push(child);
    if (child.pid === pid) return child;
    child.kill("SIGKILL");
  }
  throw new Error(`could not get host pid ${pid} for a process of the test in 1000 tries`);
}

test("restart_repl after the REPL exited by itself never signals the process that now has its old pid", async () => {
  const id = await pool.create();
  const nsPid = Number((await exec(id, "import os; print(os.getpid())")).stdout.trim());
  const kernel = hostPidOf(sandboxPids(id), nsPid);
  assert.ok(kernel, "the REPL's host pid was not found");
  await exec(id, "import os; os._exit(0)").catch(() => undefined);
  await eventually(() => !running(kernel), "the REPL did not exit", 10_000);
  // Reaped (a zombie still holds its pid): only then can the host give the pid to another.
  await eventually(() => !fs.existsSync(`/proc/${kernel}`), "the exited REPL was not reaped", 30_000);

  const bystander = await takePid(kernel);
  const restart = await api("POST", `/v1/sandboxes/${id}/restart_repl`);
  assert.equal(restart.status, 204, await restart.text());
  assert.equal(running(kernel), true, "hostd killed the process that got the exited REPL's pid");
  assert.equal(bystander.exitCode, null);
  assert.equal(bystander.signalCode, null);
  assert.equal((await exec(id, "print('back')")).stdout, "back\n", "the REPL did not come back");
});
