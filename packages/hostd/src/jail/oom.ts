// The OOM killer's preference (oom_score_adj): hostd's side last, a sandbox's first. The
// sandboxes' own value is set by the jail helpers (jail/linux.py, SANDBOX_OOM_SCORE_ADJ).
import fs from "node:fs";

/**
 * Shields the calling process from the OOM killer: -1000, inherited by what it spawns (the
 * jail server; the helpers raise their own before starting a sandbox's processes). Going below
 * 0 needs CAP_SYS_RESOURCE, which some containers withhold from root: false then, and hostd
 * stays at its inherited value, still below every sandbox's.
 */
export function shieldFromOom(): boolean {
  try {
    fs.writeFileSync("/proc/self/oom_score_adj", "-1000");
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return false;
    throw err;
  }
}
