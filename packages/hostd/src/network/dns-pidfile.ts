// The DNS forwarder's pid file, so that a hostd restarted after a crash (kill -9) can end the
// forwarder its predecessor left, which still holds UDP 53 on the gateway until it notices
// its IPC channel closed. The start time and the command line guard against a reused pid.
import fs from "node:fs";
import { isAlive, processStartTime } from "../jail/launcher.js";

const GONE_TIMEOUT_MS = 5_000;
const POLL_MS = 10;

export function writeForwarderPid(file: string, pid: number): void {
  const start = processStartTime(pid);
  if (start === null) return; // already exited: the start fails on its own
  fs.writeFileSync(file, `${pid} ${start}\n`, { mode: 0o600 });
}

/** True if pid is the process named in the file and runs `script` (not a reused pid). */
function isOurs(pid: number, start: string, script: string): boolean {
  if (!isAlive(pid, start)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(script);
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | null {
  try {
    return Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) || null;
  } catch {
    return null;
  }
}

function exeOf(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** Kills the forwarder the pid file names, if it still runs, and waits until it is gone. */
export async function endStaleForwarder(file: string, script: string, log: (msg: string) => void): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return;
  }
  const [pidRaw, start] = text.trim().split(" ");
  const pid = Number(pidRaw);
  if (!Number.isInteger(pid) || pid <= 1 || !start || !isOurs(pid, start, script)) {
    fs.rmSync(file, { force: true });
    return;
  }
  // Its parent is still a node (the forwarder's parent is the hostd that spawned it): that
  // hostd lives, and ending its forwarder would cut its sandboxes' DNS.
  const parent = parentOf(pid);
  if (parent !== null && parent !== process.pid && exeOf(parent) === exeOf(process.pid)) {
    throw new Error(`network: the DNS forwarder of this state dir belongs to a running hostd (pid ${parent}); stop it first`);
  }
  fs.rmSync(file, { force: true });
  log(`network: ending the DNS forwarder (pid ${pid}) an earlier hostd left`);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while (isAlive(pid, start) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
}
