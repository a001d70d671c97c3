// Looking at sandboxes from the host side: their cgroup and their processes.
import fs from "node:fs";
import { CgroupManager } from "@podflare/hostd/jail";

const cgroups = new CgroupManager();

/** Host pids of every process in a sandbox's cgroup. */
export function sandboxPids(id: string): number[] {
  return cgroupExists(id) ? cgroups.pids(id) : [];
}

export function cgroupExists(id: string): boolean {
  return cgroups.dirs(id).some((d) => fs.existsSync(d));
}

export function hostUid(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  } catch {
    return null;
  }
}
