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

/** Field 22 of /proc/PID/stat (start time), or undefined when there is no such process. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * The process that now has `pid`: one of ours, made by setting ns_last_pid just below it, or,
 * when another process of the host got there first (the suite runs files side by side), that one:
 * either way a bystander hostd must leave alone. Returns its start time.
 */
async function bystanderAt(pid: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (let spawned = 0; spawned < 1000; ) {
    const taken = startTimeOf(pid);
    if (taken !== undefined) {
      if (children.some((c) => c.pid === pid && c.exitCode === null)) return taken; // ours
      // Another's: used once it has lived 30 s (a short one could end by itself mid-test).
      if (Date.now() > deadline) return taken;
      await new Promise((r) => setTimeout(r, 50)); // polling until it ends or the deadline
      continue;
    }
    fs.writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
    const child = spawn("sleep", ["300"], { stdio: "ignore" });
    children.push(child);
    spawned++;
    if (child.pid !== pid) child.kill("SIGKILL");
  }
  throw new Error(`no process got host pid ${pid} in 1000 tries`);
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

  const started = await bystanderAt(kernel);
  const restart = await api("POST", `/v1/sandboxes/${id}/restart_repl`);
  assert.equal(restart.status, 204, await restart.text());
  assert.equal(running(kernel), true, "hostd killed the process that got the exited REPL's pid");
  assert.equal(startTimeOf(kernel), started, "the process that had the pid is gone");
  assert.equal((await exec(id, "print('back')")).stdout, "back\n", "the REPL did not come back");
});
