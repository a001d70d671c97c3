// The disk view survives a hostd restart: a re-adopted sandbox still sees its own disk (its
// filter's listener stays with the old supervisor), and that supervisor exits once the
// sandboxes it served are gone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("disk-view-restart", 19);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
});

after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes) await closeSandbox(s.id, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
});

function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
}

function nameOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** The disk view supervisor started by this hostd's jail server. */
function supervisorOf(hostdPid: number): number {
  for (const entry of fs.readdirSync("/proc")) {
    const pid = Number(entry);
    if (!pid || nameOf(pid) !== "podflare-disk-v") continue; // comm is cut at 15 characters
    if (parentOf(parentOf(pid)) === hostdPid) return pid;
  }
  return 0;
}

/** Whether pid is still this supervisor (not gone, not a zombie, not reused). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z" && nameOf(pid) === "podflare-disk-v";
  } catch {
    return false;
  }
}


async function sizeMb(id: string): Promise<number> {
  const r = await exec(id, "import os\ns = os.statvfs('/')\nprint(s.f_blocks * s.f_frsize >> 20)", {}, hostd.url);
  assert.equal(r.exitCode, 0, r.stderr);
  return Number(r.stdout);
}

test("after hostd is killed and restarted, a re-adopted sandbox still sees its own disk; the old supervisor leaves with its sandboxes", async () => {
  const id = await createSandbox({ disk_mb: 160 }, hostd.url);
  assert.equal(await sizeMb(id), 160);
  const old = supervisorOf(hostd.proc.pid!);
  assert.ok(old > 0, "hostd's jail server runs a disk view supervisor");
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  assert.match(hostd.log(), /re-adopted/);
  assert.equal(await sizeMb(id), 160, "the re-adopted sandbox is still answered (by the supervisor that holds its listener)");
  assert.ok(running(old), "the old supervisor outlives its jail server while it serves a sandbox");
  const fresh = await createSandbox({ disk_mb: 192 }, hostd.url);
  assert.equal(await sizeMb(fresh), 192, "a sandbox of the new hostd is answered by the new supervisor");
  await closeSandbox(id, hostd.url);
  await eventually(() => !running(old), "the old supervisor exits once no sandbox uses it", 20_000);
  await closeSandbox(fresh, hostd.url);
});
