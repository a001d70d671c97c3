// Where groups live: the cgroup version of the host, and the directories that make up one
// sandbox's group (one per v1 hierarchy, one on v2) under the parent group all sandboxes share.
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";

export type CgroupVersion = 1 | 2;

export const DEFAULT_ROOT = "/sys/fs/cgroup";
const V1_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "freezer"] as const;

/** Pure v2 has cgroup.controllers at the root of the mount; hybrid and v1 hosts do not. */
export function detectCgroupVersion(root = DEFAULT_ROOT): CgroupVersion {
  return existsSync(path.join(root, "cgroup.controllers")) ? 2 : 1;
}

export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new Error(`invalid cgroup id ${JSON.stringify(id)}`);
}

export class CgroupLayout {
  /** The v1 hierarchies a group has a directory in (empty on v2). */
  readonly v1Controllers: string[] = [];

  constructor(readonly version: CgroupVersion, readonly root: string, readonly parent: string) {
    if (version === 2) return;
    // cpu and cpuacct are often co-mounted (cpu -> cpu,cpuacct): keep one of each real dir.
    const seen = new Set<string>();
    for (const c of V1_CONTROLLERS) {
      const dir = path.join(root, c);
      if (!existsSync(dir)) {
        if (c === "cpuacct") continue;
        throw new Error(`cgroup v1 controller ${c} is not mounted at ${dir}`);
      }
      const real = realpathSync(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      this.v1Controllers.push(c);
    }
  }

  /** The directories that make up one sandbox's group (one per v1 hierarchy, one on v2). */
  dirs(id: string): string[] {
    checkId(id);
    if (this.version === 2) return [path.join(this.root, this.parent, id)];
    return this.v1Controllers.map((c) => path.join(this.root, c, this.parent, id));
  }

  /** The group's directory holding `controller`'s files (the one directory on v2). */
  dir(id: string, controller: string): string {
    checkId(id);
    if (this.version === 2) return path.join(this.root, this.parent, id);
    return path.join(this.root, controller, this.parent, id);
  }

  /** The parent group's directories (one per v1 hierarchy, one on v2). */
  parentDirs(): string[] {
    return this.version === 2 ? [path.join(this.root, this.parent)] : this.v1Controllers.map((c) => path.join(this.root, c, this.parent));
  }
}
