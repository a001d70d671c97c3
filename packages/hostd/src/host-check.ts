// What the ns runtime needs from the host; each missing piece is named with the fix.
import fs from "node:fs";

export interface HostProblem {
  what: string;
  fix: string;
}

export function hostProblems(): HostProblem[] {
  const problems: HostProblem[] = [];
  if (process.getuid?.() !== 0) problems.push({ what: "hostd is not running as root", fix: "run it as root (sudo)" });
  if (process.platform !== "linux") problems.push({ what: "not Linux", fix: "run hostd on a Linux host" });
  const has = (p: string) => fs.existsSync(p);
  if (!has("/proc/self/ns/user")) problems.push({ what: "user namespaces are missing", fix: "use a kernel with CONFIG_USER_NS" });
  try {
    const max = Number(fs.readFileSync("/proc/sys/user/max_user_namespaces", "utf8"));
    if (max === 0) problems.push({ what: "user namespaces are disabled", fix: "sysctl -w user.max_user_namespaces=15000" });
  } catch {
    /* older kernels lack the file */
  }
  const v2 = has("/sys/fs/cgroup/cgroup.controllers");
  if (!v2 && !(has("/sys/fs/cgroup/memory") && has("/sys/fs/cgroup/pids"))) {
    problems.push({ what: "no usable cgroup hierarchy (memory and pids)", fix: "mount cgroup v2 at /sys/fs/cgroup" });
  }
  if (!has("/usr/bin/python3")) problems.push({ what: "/usr/bin/python3 is missing (the jail launcher)", fix: "apt-get install python3" });
  return problems;
}

export function checkHost(): void {
  const problems = hostProblems();
  if (problems.length) {
    throw new Error(
      "this host cannot run sandboxes yet:\n" + problems.map((p) => `  - ${p.what}: ${p.fix}`).join("\n"),
    );
  }
}
